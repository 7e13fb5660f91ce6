/**
 * Demo file 1: an Argo multi-profile file (Argo user manual 3.1, `_prof.nc`), one float in the
 * South Atlantic.
 */
import type { NcAttrs, NcChunk, NcFileDef, NcVarDef } from '../encoders/netcdf3/writer.js';
import { DAY_MS, Rng, round, SYNTHETIC_NOTE, type DemoDataset } from './shared.js';

const N_PROF = 60;
const N_PARAM = 3;
const N_CALIB = 1;
const PARAMS = ['PRES', 'TEMP', 'PSAL'] as const;
/** Nominal sampling: 5 dbar, every 10 dbar to 200, every 20 to 600, every 50 to 2000 (69 levels). */
const NOMINAL_PRES = [
  5,
  ...Array.from({ length: 20 }, (_, i) => 10 + 10 * i),
  ...Array.from({ length: 20 }, (_, i) => 220 + 20 * i),
  ...Array.from({ length: 28 }, (_, i) => 650 + 50 * i),
];
const N_LEVELS = NOMINAL_PRES.length;
const ARGO_FILL = 99999;
const JULD_EPOCH = Date.UTC(1950, 0, 1);
const ARGO_DATE = '20230115093000';

/** Space-padded rows, as Argo files store strings (their char _FillValue is ' '). */
const padRows = (rows: string[], width: number): string[] => rows.map((s) => s.padEnd(width, ' '));

function argoChar(name: string, dims: string[], longName: string, conventions?: string): NcVarDef {
  const attrs: NcAttrs = { long_name: longName };
  if (conventions) attrs.conventions = conventions;
  attrs._FillValue = ' ';
  return { name, type: 'char', dims, attrs };
}

function argoFloat(
  name: string,
  units: string,
  p: {
    longName: string;
    standardName?: string;
    validMin?: number;
    validMax?: number;
    format: [string, string];
    resolution: number;
    axis?: string;
  },
): NcVarDef {
  const attrs: NcAttrs = { long_name: p.longName };
  if (p.standardName) attrs.standard_name = p.standardName;
  attrs._FillValue = ARGO_FILL;
  attrs.units = units;
  if (p.validMin !== undefined) attrs.valid_min = p.validMin;
  if (p.validMax !== undefined) attrs.valid_max = p.validMax;
  attrs.C_format = p.format[0];
  attrs.FORTRAN_format = p.format[1];
  attrs.resolution = { type: 'f4', value: p.resolution };
  if (p.axis) attrs.axis = p.axis;
  return { name, type: 'f4', dims: ['N_PROF', 'N_LEVELS'], attrs };
}

const PARAM_META = {
  PRES: {
    units: 'decibar',
    longName: 'Sea water pressure, equals 0 at sea-level',
    standardName: 'sea_water_pressure',
    validMin: 0,
    validMax: 12000,
    format: ['%7.1f', 'F7.1'] as [string, string],
    resolution: 1,
    axis: 'Z',
  },
  TEMP: {
    units: 'degree_Celsius',
    longName: 'Sea temperature in-situ ITS-90 scale',
    standardName: 'sea_water_temperature',
    validMin: -2.5,
    validMax: 40,
    format: ['%9.3f', 'F9.3'] as [string, string],
    resolution: 0.001,
  },
  PSAL: {
    units: 'psu',
    longName: 'Practical salinity',
    standardName: 'sea_water_salinity',
    validMin: 2,
    validMax: 41,
    format: ['%9.3f', 'F9.3'] as [string, string],
    resolution: 0.001,
  },
};

function argoDefinition(): NcFileDef {
  const prof = (name: string, width: string, longName: string, conventions?: string) =>
    argoChar(name, ['N_PROF', width], longName, conventions);
  const history = (name: string, width: string, longName: string, conventions: string) =>
    argoChar(name, ['N_HISTORY', 'N_PROF', width], longName, conventions);
  const juld = (name: string, longName: string, time: boolean): NcVarDef => ({
    name,
    type: 'f8',
    dims: ['N_PROF'],
    attrs: {
      long_name: longName,
      ...(time ? { standard_name: 'time' } : {}),
      units: 'days since 1950-01-01 00:00:00 UTC',
      conventions: 'Relative julian days with decimal part (as parts of day)',
      resolution: { type: 'f8', value: 0 },
      _FillValue: 999999,
      ...(time ? { axis: 'T' } : {}),
    },
  });
  const position = (name: string, axis: 'X' | 'Y'): NcVarDef => ({
    name,
    type: 'f8',
    dims: ['N_PROF'],
    attrs: {
      long_name: `${axis === 'Y' ? 'Latitude' : 'Longitude'} of the station, best estimate`,
      standard_name: axis === 'Y' ? 'latitude' : 'longitude',
      units: axis === 'Y' ? 'degree_north' : 'degree_east',
      _FillValue: 99999,
      valid_min: axis === 'Y' ? -90 : -180,
      valid_max: axis === 'Y' ? 90 : 180,
      axis,
    },
  });
  const measured = PARAMS.flatMap((p): NcVarDef[] => {
    const m = PARAM_META[p];
    const qc = (name: string) => argoChar(name, ['N_PROF', 'N_LEVELS'], 'quality flag', 'Argo reference table 2');
    const error: NcVarDef = argoFloat(`${p}_ADJUSTED_ERROR`, m.units, {
      longName: 'Contains the error on the adjusted values as determined by the delayed mode QC process',
      format: m.format,
      resolution: m.resolution,
    });
    return [
      argoFloat(p, m.units, m),
      qc(`${p}_QC`),
      argoFloat(`${p}_ADJUSTED`, m.units, m),
      qc(`${p}_ADJUSTED_QC`),
      error,
    ];
  });
  const calib = (name: string, longName: string): NcVarDef =>
    argoChar(name, ['N_PROF', 'N_CALIB', 'N_PARAM', 'STRING256'], longName);
  return {
    format: 'cdf1',
    dims: [
      { name: 'DATE_TIME', size: 14 },
      { name: 'STRING256', size: 256 },
      { name: 'STRING64', size: 64 },
      { name: 'STRING32', size: 32 },
      { name: 'STRING16', size: 16 },
      { name: 'STRING8', size: 8 },
      { name: 'STRING4', size: 4 },
      { name: 'STRING2', size: 2 },
      { name: 'N_PROF', size: N_PROF },
      { name: 'N_PARAM', size: N_PARAM },
      { name: 'N_LEVELS', size: N_LEVELS },
      { name: 'N_CALIB', size: N_CALIB },
      { name: 'N_HISTORY', size: 0, unlimited: true },
    ],
    attrs: {
      title: 'Argo float vertical profile',
      institution: 'odas demo (synthetic data)',
      source: 'Argo float',
      history: `${ARGO_DATE.slice(0, 4)}-${ARGO_DATE.slice(4, 6)}-${ARGO_DATE.slice(6, 8)}T09:30:00Z creation (synthetic, odas demo generator)`,
      references: 'http://www.argodatamgt.org/Documentation',
      comment: SYNTHETIC_NOTE,
      user_manual_version: '3.1',
      Conventions: 'Argo-3.1 CF-1.6',
      featureType: 'trajectoryProfile',
    },
    variables: [
      argoChar('DATA_TYPE', ['STRING16'], 'Data type', 'Argo reference table 1'),
      argoChar('FORMAT_VERSION', ['STRING4'], 'File format version'),
      argoChar('HANDBOOK_VERSION', ['STRING4'], 'Data handbook version'),
      argoChar('REFERENCE_DATE_TIME', ['DATE_TIME'], 'Date of reference for Julian days', 'YYYYMMDDHHMISS'),
      argoChar('DATE_CREATION', ['DATE_TIME'], 'Date of file creation', 'YYYYMMDDHHMISS'),
      argoChar('DATE_UPDATE', ['DATE_TIME'], 'Date of update of this file', 'YYYYMMDDHHMISS'),
      prof('PLATFORM_NUMBER', 'STRING8', 'Float unique identifier', 'WMO float identifier : A9IIIII'),
      prof('PROJECT_NAME', 'STRING64', 'Name of the project'),
      prof('PI_NAME', 'STRING64', 'Name of the principal investigator'),
      argoChar(
        'STATION_PARAMETERS',
        ['N_PROF', 'N_PARAM', 'STRING16'],
        'List of available parameters for the station',
        'Argo reference table 3',
      ),
      {
        name: 'CYCLE_NUMBER',
        type: 'i4',
        dims: ['N_PROF'],
        attrs: {
          long_name: 'Float cycle number',
          conventions: '0...N, 0 : launch cycle (if exists), 1 : first complete cycle',
          _FillValue: ARGO_FILL,
        },
      },
      argoChar(
        'DIRECTION',
        ['N_PROF'],
        'Direction of the station profiles',
        'A: ascending profiles, D: descending profiles',
      ),
      prof('DATA_CENTRE', 'STRING2', 'Data centre in charge of float data processing', 'Argo reference table 4'),
      prof('DC_REFERENCE', 'STRING32', 'Station unique identifier in data centre', 'Data centre convention'),
      prof(
        'DATA_STATE_INDICATOR',
        'STRING4',
        'Degree of processing the data have passed through',
        'Argo reference table 6',
      ),
      argoChar(
        'DATA_MODE',
        ['N_PROF'],
        'Delayed mode or real time data',
        'R : real time; D : delayed mode; A : real time with adjustment',
      ),
      prof('PLATFORM_TYPE', 'STRING32', 'Type of float', 'Argo reference table 23'),
      prof('FLOAT_SERIAL_NO', 'STRING32', 'Serial number of the float'),
      prof('FIRMWARE_VERSION', 'STRING32', 'Instrument firmware version'),
      prof('WMO_INST_TYPE', 'STRING4', 'Coded instrument type', 'Argo reference table 8'),
      juld('JULD', 'Julian day (UTC) of the station relative to REFERENCE_DATE_TIME', true),
      argoChar('JULD_QC', ['N_PROF'], 'Quality on date and time', 'Argo reference table 2'),
      juld('JULD_LOCATION', 'Julian day (UTC) of the location relative to REFERENCE_DATE_TIME', false),
      position('LATITUDE', 'Y'),
      position('LONGITUDE', 'X'),
      argoChar('POSITION_QC', ['N_PROF'], 'Quality on position (latitude and longitude)', 'Argo reference table 2'),
      prof('POSITIONING_SYSTEM', 'STRING8', 'Positioning system'),
      ...PARAMS.map((p) =>
        argoChar(`PROFILE_${p}_QC`, ['N_PROF'], `Global quality flag of ${p} profile`, 'Argo reference table 2a'),
      ),
      prof('VERTICAL_SAMPLING_SCHEME', 'STRING256', 'Vertical sampling scheme', 'Argo reference table 16'),
      {
        name: 'CONFIG_MISSION_NUMBER',
        type: 'i4',
        dims: ['N_PROF'],
        attrs: {
          long_name: 'Unique number denoting the missions performed by the float',
          conventions: '1...N, 1 : first complete mission',
          _FillValue: ARGO_FILL,
        },
      },
      ...measured,
      argoChar(
        'PARAMETER',
        ['N_PROF', 'N_CALIB', 'N_PARAM', 'STRING16'],
        'List of parameters with calibration information',
        'Argo reference table 3',
      ),
      calib('SCIENTIFIC_CALIB_EQUATION', 'Calibration equation for this parameter'),
      calib('SCIENTIFIC_CALIB_COEFFICIENT', 'Calibration coefficients for this equation'),
      calib('SCIENTIFIC_CALIB_COMMENT', 'Comment applying to this parameter calibration'),
      argoChar(
        'SCIENTIFIC_CALIB_DATE',
        ['N_PROF', 'N_CALIB', 'N_PARAM', 'DATE_TIME'],
        'Date of calibration',
        'YYYYMMDDHHMISS',
      ),
      history('HISTORY_INSTITUTION', 'STRING4', 'Institution which performed action', 'Argo reference table 4'),
      history('HISTORY_STEP', 'STRING4', 'Step in data processing', 'Argo reference table 12'),
      history('HISTORY_SOFTWARE', 'STRING4', 'Name of software which performed action', 'Institution dependent'),
      history(
        'HISTORY_SOFTWARE_RELEASE',
        'STRING4',
        'Version/release of software which performed action',
        'Institution dependent',
      ),
      history('HISTORY_REFERENCE', 'STRING64', 'Reference of database', 'Institution dependent'),
      history('HISTORY_DATE', 'DATE_TIME', 'Date the history record was created', 'YYYYMMDDHHMISS'),
      history('HISTORY_ACTION', 'STRING4', 'Action performed on data', 'Argo reference table 7'),
      history('HISTORY_PARAMETER', 'STRING16', 'Station parameter action is performed on', 'Argo reference table 3'),
      ...['HISTORY_START_PRES', 'HISTORY_STOP_PRES'].map((name): NcVarDef => ({
        name,
        type: 'f4',
        dims: ['N_HISTORY', 'N_PROF'],
        attrs: {
          long_name: `${name === 'HISTORY_START_PRES' ? 'Start' : 'Stop'} pressure action applied on`,
          _FillValue: ARGO_FILL,
          units: 'decibar',
        },
      })),
      {
        name: 'HISTORY_PREVIOUS_VALUE',
        type: 'f4',
        dims: ['N_HISTORY', 'N_PROF'],
        attrs: { long_name: 'Parameter/Flag previous value before action', _FillValue: ARGO_FILL },
      },
      argoChar(
        'HISTORY_QCTEST',
        ['N_HISTORY', 'N_PROF', 'STRING16'],
        'Documentation of tests performed, tests failed (in hex form)',
        'Write tests performed when ACTION=QCP$; tests failed when ACTION=QCF$',
      ),
    ],
  };
}

/** Temperature (°C) at pressure p (dbar): a mixed layer over a two-scale thermocline, ~2.7 °C at 2000 dbar. */
function temperature(p: number, mixedLayerTemp: number, mld: number): number {
  const base = (q: number) => 2.4 + 8.2 * Math.exp(-q / 300) + 6.5 * Math.exp(-q / 700);
  if (p <= mld) return mixedLayerTemp;
  // The seasonal anomaly of the mixed layer fades within a few tens of decibars below it.
  return base(p) + (mixedLayerTemp - base(mld)) * Math.exp(-(p - mld) / 40);
}

/** Salinity: salty subtropical surface (~35.5), Antarctic Intermediate Water minimum (~34.35 near 850 dbar), NADW ~34.88. */
function salinity(p: number, mld: number, surfaceAnomaly: number): number {
  const q = Math.max(p, mld);
  return 34.88 - 0.6 * Math.exp(-(((q - 850) / 320) ** 2)) + (0.68 + surfaceAnomaly) * Math.exp(-q / 350);
}

export function argoProfiles(): DemoDataset {
  const rng = new Rng(6900001);
  const def = argoDefinition();
  const nValues = N_PROF * N_LEVELS;
  const raw = { PRES: new Float32Array(nValues), TEMP: new Float32Array(nValues), PSAL: new Float32Array(nValues) };
  const adjusted = {
    PRES: new Float32Array(nValues),
    TEMP: new Float32Array(nValues),
    PSAL: new Float32Array(nValues),
  };
  const errors = { PRES: new Float32Array(nValues), TEMP: new Float32Array(nValues), PSAL: new Float32Array(nValues) };
  // Per-level QC flags: one string of N_LEVELS characters per profile.
  const qc: Record<string, string[]> = { PRES: [], TEMP: [], PSAL: [] };
  const adjustedQc: Record<string, string[]> = { PRES: [], TEMP: [], PSAL: [] };
  const juld = new Float64Array(N_PROF);
  const juldLocation = new Float64Array(N_PROF);
  const lat = new Float64Array(N_PROF);
  const lon = new Float64Array(N_PROF);
  const dataMode: string[] = [];
  const profileQc = { PRES: '', TEMP: '', PSAL: '' };
  const start = Date.UTC(2021, 0, 4, 6, 0);
  let y = -34.6;
  let x = -18.2;
  for (let i = 0; i < N_PROF; i++) {
    // 10-day cycles; surfacing time wanders by a few hours, as float clocks and ascent times do.
    const surfacing = start + i * 10 * DAY_MS + Math.round(rng.normal(0, 150)) * 60_000;
    juld[i] = Math.round((surfacing - JULD_EPOCH) / 60_000) / 1440;
    juldLocation[i] = Math.round((surfacing - JULD_EPOCH) / 60_000 + 6 + Math.floor(rng.next() * 20)) / 1440;
    // Random walk with the slow eastward drift of the South Atlantic Current.
    y += rng.normal(0.01, 0.12);
    x += rng.normal(0.06, 0.16);
    lat[i] = round(y, 3);
    lon[i] = round(x, 3);
    // The last 12 profiles are still real-time; older ones went through delayed-mode QC.
    const mode = i < N_PROF - 12 ? 'D' : 'R';
    dataMode.push(mode);

    const dayOfYear = (surfacing - Date.UTC(new Date(surfacing).getUTCFullYear(), 0, 1)) / DAY_MS;
    const season = Math.cos((2 * Math.PI * (dayOfYear - 45)) / 365.25); // +1 in mid-February (austral summer)
    const mld = 90 - 60 * season + rng.normal(0, 10);
    const mixedTemp = 18 + 2.5 * season - 0.5 * (y + 35) + rng.normal(0, 0.3);
    const surfaceSalinity = rng.normal(0, 0.05);
    const missingAtBottom = rng.next() < 0.7 ? 0 : 1 + Math.floor(rng.next() * 3);
    const spikeLevel = i === 17 ? 40 : -1; // one salinity spike for QC to flag
    const flags = { PRES: '', TEMP: '', PSAL: '' };
    for (let k = 0; k < N_LEVELS; k++) {
      const o = i * N_LEVELS + k;
      if (k >= N_LEVELS - missingAtBottom) {
        for (const p of PARAMS) {
          raw[p][o] = adjusted[p][o] = errors[p][o] = ARGO_FILL;
          flags[p] += ' ';
        }
        continue;
      }
      const nominal = NOMINAL_PRES[k]!;
      const pres = round(nominal + rng.normal(0, nominal < 100 ? 0.3 : 1), 1);
      const wave = rng.normal(0, 0.06) * Math.exp(-pres / 500);
      const temp = round(temperature(pres, mixedTemp, mld) + wave + rng.normal(0, 0.004), 3);
      let psal = round(salinity(pres, mld, surfaceSalinity) + wave * 0.12 + rng.normal(0, 0.003), 3);
      if (k === spikeLevel) psal = round(psal + 0.8, 3);
      raw.PRES[o] = pres;
      raw.TEMP[o] = temp;
      raw.PSAL[o] = psal;
      flags.PRES += '1';
      flags.TEMP += '1';
      flags.PSAL += k === spikeLevel ? '4' : '1';
      if (mode === 'D') {
        adjusted.PRES[o] = pres;
        adjusted.TEMP[o] = temp;
        adjusted.PSAL[o] = k === spikeLevel ? ARGO_FILL : round(psal + 0.004, 3);
        errors.PRES[o] = 2.4;
        errors.TEMP[o] = 0.002;
        errors.PSAL[o] = k === spikeLevel ? ARGO_FILL : 0.01;
      } else {
        adjusted.PRES[o] = adjusted.TEMP[o] = adjusted.PSAL[o] = ARGO_FILL;
        errors.PRES[o] = errors.TEMP[o] = errors.PSAL[o] = ARGO_FILL;
      }
    }
    for (const p of PARAMS) {
      qc[p]!.push(flags[p]);
      adjustedQc[p]!.push(mode === 'D' ? flags[p] : ' '.repeat(N_LEVELS));
      // Argo table 2a: 'A' when every measured level is good, 'B' for 75-100 %.
      profileQc[p] += flags[p].includes('4') ? 'B' : 'A';
    }
  }

  const perProfile = (f: (i: number) => string, width: number) =>
    padRows(
      Array.from({ length: N_PROF }, (_, i) => f(i)),
      width,
    );
  const perParam = (f: (i: number, p: (typeof PARAMS)[number]) => string, width: number) =>
    padRows(
      Array.from({ length: N_PROF * N_PARAM }, (_, j) => f(Math.floor(j / N_PARAM), PARAMS[j % N_PARAM]!)),
      width,
    );
  const delayed = (i: number) => dataMode[i] === 'D';
  const calibText: Record<(typeof PARAMS)[number], [string, string, string]> = {
    PRES: [
      'PRES_ADJUSTED = PRES - dP',
      'dP = 0.0 dbar',
      'Pressure adjusted using the surface pressure offset reported by the float',
    ],
    TEMP: ['none', 'none', 'Temperature accepted as is'],
    PSAL: [
      'PSAL_ADJUSTED = PSAL + 0.004',
      'offset = 0.004',
      'Salinity offset from comparison with climatology (synthetic)',
    ],
  };
  const values: Record<string, NcChunk> = {
    DATA_TYPE: padRows(['Argo profile'], 16),
    FORMAT_VERSION: padRows(['3.1'], 4),
    HANDBOOK_VERSION: padRows(['1.2'], 4),
    REFERENCE_DATE_TIME: ['19500101000000'],
    DATE_CREATION: [ARGO_DATE],
    DATE_UPDATE: [ARGO_DATE],
    PLATFORM_NUMBER: perProfile(() => '6900001', 8),
    PROJECT_NAME: perProfile(() => 'ODAS DEMO (SYNTHETIC)', 64),
    PI_NAME: perProfile(() => 'ODAS DEMO', 64),
    STATION_PARAMETERS: perParam((_, p) => p, 16),
    CYCLE_NUMBER: Int32Array.from({ length: N_PROF }, (_, i) => i + 1),
    DIRECTION: ['A'.repeat(N_PROF)],
    DATA_CENTRE: perProfile(() => 'IF', 2),
    DC_REFERENCE: perProfile((i) => `DEMO${String(i + 1).padStart(4, '0')}`, 32),
    DATA_STATE_INDICATOR: perProfile((i) => (delayed(i) ? '2C+' : '2B'), 4),
    DATA_MODE: [dataMode.join('')],
    PLATFORM_TYPE: perProfile(() => 'ARVOR', 32),
    FLOAT_SERIAL_NO: perProfile(() => 'DEMO-0001', 32),
    FIRMWARE_VERSION: perProfile(() => '5900A04', 32),
    WMO_INST_TYPE: perProfile(() => '844', 4),
    JULD: juld,
    JULD_QC: ['1'.repeat(N_PROF)],
    JULD_LOCATION: juldLocation,
    LATITUDE: lat,
    LONGITUDE: lon,
    POSITION_QC: ['1'.repeat(N_PROF)],
    POSITIONING_SYSTEM: perProfile(() => 'GPS', 8),
    VERTICAL_SAMPLING_SCHEME: perProfile(
      () => 'Primary sampling: averaged [10 sec sampling, 10 dbar average from 2000 dbar to surface]',
      256,
    ),
    CONFIG_MISSION_NUMBER: new Int32Array(N_PROF).fill(1),
    PARAMETER: perParam((_, p) => p, 16),
    SCIENTIFIC_CALIB_EQUATION: perParam((i, p) => (delayed(i) ? calibText[p][0] : ''), 256),
    SCIENTIFIC_CALIB_COEFFICIENT: perParam((i, p) => (delayed(i) ? calibText[p][1] : ''), 256),
    SCIENTIFIC_CALIB_COMMENT: perParam((i, p) => (delayed(i) ? calibText[p][2] : ''), 256),
    SCIENTIFIC_CALIB_DATE: perParam((i) => (delayed(i) ? ARGO_DATE : ''), 14),
  };
  for (const p of PARAMS) {
    values[p] = raw[p];
    values[`${p}_QC`] = qc[p]!;
    values[`${p}_ADJUSTED`] = adjusted[p];
    values[`${p}_ADJUSTED_QC`] = adjustedQc[p]!;
    values[`${p}_ADJUSTED_ERROR`] = errors[p];
    values[`PROFILE_${p}_QC`] = [profileQc[p]];
  }
  return { def, values };
}
