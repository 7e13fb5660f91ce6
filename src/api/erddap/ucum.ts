/**
 * ERDDAP's `units("UCUM")` filter: the units of an answer written in UCUM (case-sensitive form)
 * instead of the UDUNITS the files hold. As ERDDAP's converter does: known names and their plurals
 * and aliases become UCUM symbols, spaces and `*` between terms become `.`, `**` and `^` exponents
 * become bare exponents (`m s-1` → `m.s-1`, `m^2` → `m2`), `per`/`PER` become `/`, and a name it does
 * not know is left as it is. Reference-time units keep their reference in braces
 * (`seconds since 1970-01-01T00:00:00Z` → `s{since 1970-01-01T00:00:00Z}`), as ERDDAP writes them.
 */

/** UDUNITS names (lower case unless the case matters) and their UCUM symbols: what ocean data use. */
const NAMES: Record<string, string> = {
  degree_celsius: 'Cel',
  degree_c: 'Cel',
  degrees_celsius: 'Cel',
  degc: 'Cel',
  celsius: 'Cel',
  deg_c: 'Cel',
  kelvin: 'K',
  degree_kelvin: 'K',
  degrees_north: 'deg{north}',
  degree_north: 'deg{north}',
  degrees_n: 'deg{north}',
  degree_n: 'deg{north}',
  degrees_east: 'deg{east}',
  degree_east: 'deg{east}',
  degrees_e: 'deg{east}',
  degree_e: 'deg{east}',
  degrees_south: 'deg{south}',
  degrees_west: 'deg{west}',
  degree: 'deg',
  degrees: 'deg',
  decibar: 'dbar',
  decibars: 'dbar',
  dbar: 'dbar',
  bar: 'bar',
  millibar: 'mbar',
  mbar: 'mbar',
  hpa: 'hPa',
  pascal: 'Pa',
  psu: '{PSU}',
  pss: '{PSS}',
  'pss-78': '{PSS-78}',
  percent: '%',
  meter: 'm',
  meters: 'm',
  metre: 'm',
  metres: 'm',
  kilometer: 'km',
  kilometers: 'km',
  centimeter: 'cm',
  centimeters: 'cm',
  millimeter: 'mm',
  millimeters: 'mm',
  second: 's',
  seconds: 's',
  sec: 's',
  minute: 'min',
  minutes: 'min',
  hour: 'h',
  hours: 'h',
  hr: 'h',
  day: 'd',
  days: 'd',
  gram: 'g',
  grams: 'g',
  kilogram: 'kg',
  kilograms: 'kg',
  liter: 'L',
  liters: 'L',
  litre: 'L',
  micromole: 'umol',
  micromoles: 'umol',
  micromol: 'umol',
  millimole: 'mmol',
  mole: 'mol',
  moles: 'mol',
  count: '{count}',
  counts: '{count}',
};

/** Symbols whose case carries meaning (UDUNITS and UCUM agree on them). */
const KEEP_CASE = new Set(['K', 'Pa', 'L', 'S', 'W', 'V', 'A', 'J', 'N', 'Hz', 'mS', 'uS', 'mL', 'uL']);

/** One term (`m`, `s-1`, `degree_Celsius`, `m^2`): its symbol, then its exponent. */
function term(text: string): string {
  const m = /^(.*?)(-?\d+)?$/.exec(text)!;
  const name = m[1]!;
  const power = m[2] ?? '';
  if (name === '') return text;
  const symbol = KEEP_CASE.has(name) ? name : (NAMES[name.toLowerCase()] ?? name);
  return `${symbol}${power}`;
}

/** UDUNITS text → UCUM text. Empty and unitless (`1`) units stay as they are. */
function ucumUnits(udunits: string): string {
  const text = udunits.trim();
  if (text === '' || text === '1') return text;
  const since = /^(\w+)\s+since\s+(.+)$/i.exec(text);
  if (since) return `${term(since[1]!)}{since ${since[2]!.trim()}}`;
  return text
    .replace(/\s+(?:per|PER)\s+/g, '/')
    .replace(/\*\*|\^/g, '')
    .split('/')
    .map((part) =>
      part
        .trim()
        .split(/\s*[*·]\s*|\s+/)
        .filter((t) => t !== '')
        .map(term)
        .join('.'),
    )
    .join('/');
}

/** A column's units in the standard the query asked for. */
export function unitsIn(standard: 'UDUNITS' | 'UCUM', units: string | undefined): string | undefined {
  return units === undefined || standard === 'UDUNITS' ? units : ucumUnits(units);
}
