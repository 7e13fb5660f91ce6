/**
 * WMS 1.3.0 service exceptions (OGC 06-042 §6.11 and Annex E.4): every error of /wms is an
 * XML ServiceExceptionReport with the code a WMS client knows (LayerNotDefined, InvalidCRS…),
 * sent with HTTP 400 for a client's mistake and 502 for a data file that cannot be read.
 */
import { ApiError, InvalidParameterValue } from '../../core/errors.js';
import { xmlEscape } from './xml.js';

export class WmsException extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'WmsException';
  }
}

/** WMS codes by the parameter an error names. */
const CODE_BY_PARAMETER: Record<string, string> = {
  layers: 'LayerNotDefined',
  layer: 'LayerNotDefined',
  query_layers: 'LayerNotQueryable',
  styles: 'StyleNotDefined',
  style: 'StyleNotDefined',
  crs: 'InvalidCRS',
  srs: 'InvalidCRS',
  format: 'InvalidFormat',
  info_format: 'InvalidFormat',
  time: 'InvalidDimensionValue',
  datetime: 'InvalidDimensionValue',
  elevation: 'InvalidDimensionValue',
  subset: 'InvalidDimensionValue',
  i: 'InvalidPoint',
  j: 'InvalidPoint',
  x: 'InvalidPoint',
  y: 'InvalidPoint',
};

/** The WMS form of any error thrown while answering: code, text, HTTP status; undefined for a server fault. */
export function asWmsException(err: unknown): WmsException | undefined {
  if (err instanceof WmsException) return err;
  if (err instanceof InvalidParameterValue) {
    const p = err.parameter.toLowerCase();
    const text =
      p === 'datetime'
        ? err.message.replace(`'datetime'`, `'TIME'`)
        : p === 'subset'
          ? err.message.replace(`'subset'`, `'ELEVATION'`)
          : err.message;
    return new WmsException(CODE_BY_PARAMETER[p] ?? 'InvalidParameterValue', text);
  }
  if (err instanceof ApiError)
    return new WmsException(
      err.statusCode === 404 ? 'LayerNotDefined' : err.code,
      err.message,
      err.statusCode === 404 ? 400 : err.statusCode,
    );
  return undefined;
}

export function exceptionReport(e: WmsException): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd">
  <ServiceException code="${xmlEscape(e.code)}">${xmlEscape(e.message)}</ServiceException>
</ServiceExceptionReport>
`;
}
