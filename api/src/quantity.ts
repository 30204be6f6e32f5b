// Suffixes by power: 2^e for the binary ones, 10^e for the decimal ones (exact comparisons below
// work on the powers; parseQuantity on the multipliers, which are the same numbers as literals).
const BINARY_POWER: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Ti: 40, Gi: 30, Pi: 50, Ei: 60 };
const DECIMAL_POWER: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const multipliers = (powers: Readonly<Record<string, number>>, base: (e: number) => number) =>
  Object.fromEntries(Object.entries(powers).map(([k, e]) => [k, base(e)])) as Readonly<
    Record<string, number>
  >;
const BINARY = multipliers(BINARY_POWER, (e) => 2 ** e);
const DECIMAL = multipliers(DECIMAL_POWER, (e) => Number(`1e${e}`));
// What the CRDs' CEL rule on a quantity field accepts: Kubernetes' quantity syntax with an optional "+",
// never "-" (no resource here can be negative), and a digit before the suffix ("Gi" alone is not 2Gi).
const QUANTITY = /^\+?((?:\d+(?:\.\d*)?)|(?:\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][-+]?\d+)?$/;

/**
 * A quantity field as the CRDs type it (int-or-string, as a Pod's resources): `2`, `"2"`, `"1500m"`,
 * `1073741824`, `"1Gi"`.
 */
export type Quantity = number | string;

/**
 * Whether a value passes the CRDs' rule on a quantity field,
 * `string(self).matches('^[+]?[.]?[0-9]') && isQuantity(string(self))`: a non-negative integer, or a
 * string in Kubernetes' quantity syntax with a digit before its suffix. No spaces are trimmed, as in CEL.
 */
export function isQuantity(q: Quantity): boolean {
  return typeof q === 'number' ? Number.isSafeInteger(q) && q >= 0 : QUANTITY.test(q);
}

/**
 * The quantity as Kubernetes writes it in a Pod: a string, with a number in decimal digits
 * (`2` is `"2"`, `1073741824` is `"1073741824"`, the same value).
 */
export function quantityString(q: Quantity): string {
  return typeof q === 'number' ? String(q) : q;
}

/**
 * The value of a Kubernetes quantity in base units (cores, bytes); undefined when it is not one.
 * A number is its own value (YAML may carry `cpu: 2`).
 */
export function parseQuantity(q: Quantity | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? q : undefined;
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return n * (BINARY[suffix] as number);
  if (suffix in DECIMAL) return n * (DECIMAL[suffix] as number);
  return n * 10 ** Number(suffix.slice(1));
}

/** CPU in millicores, rounded as the kubelet does (up). */
export function milliCpu(q: Quantity | undefined): number | undefined {
  const v = parseQuantity(q);
  return v === undefined ? undefined : Math.ceil(Math.round(v * 1e6) / 1e3);
}

/** Whether two quantities are equal in value ("2" equals "2000m"). */
export function sameQuantity(a: Quantity | undefined, b: Quantity | undefined): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  return x !== undefined && y !== undefined && Math.abs(x - y) <= Math.abs(x) * 1e-12;
}

// Exact comparisons, for the synth-time mirrors of the CRDs' CEL rules. CEL's quantity() compares
// decimal values exactly, so "0.7" equals "700m" and "4.1G" equals "4100M"; binary floating point
// does not (0.7 < 700 × 0.001), and would reject specs the apiserver accepts.

// Exponents beyond this are not values the apiserver stores (it keeps quantities within int64 nanos).
const MAX_EXPONENT = 400;

/** value = digits × 10^exp, exactly. */
interface Decimal {
  readonly digits: bigint;
  readonly exp: number;
}

/** The quantity's exact decimal value, whatever its exponent (Number() of "1e-500" is 0). */
function decimalOf(q: Quantity): Decimal | undefined {
  // A number is its decimal digits, as CEL's string() writes it: 2 is "2", -1 is "-1" (not a quantity).
  const m = QUANTITY.exec(quantityString(q).trim());
  if (!m) return undefined;
  const [whole = '', fraction = ''] = (m[1] ?? '').split('.');
  const suffix = m[2] ?? '';
  let digits = BigInt(`${whole}${fraction}` || '0');
  let exp = -fraction.length;
  if (suffix in BINARY_POWER) digits <<= BigInt(BINARY_POWER[suffix] as number);
  else if (suffix in DECIMAL_POWER) exp += DECIMAL_POWER[suffix] as number;
  else exp += Number(suffix.slice(1));
  return { digits, exp };
}

function exact(q: Quantity): Decimal | undefined {
  const x = decimalOf(q);
  return x && Math.abs(x.exp) <= MAX_EXPONENT ? x : undefined;
}

/**
 * `q` rounded up to whole units of 10^scale (the digits of that many units), or undefined when it is
 * whole units already or not a quantity. Exact at any exponent, and never computes a power longer
 * than the quantity's own digits: a value below one unit is one unit.
 */
function roundedUp(q: Quantity, scale: number): bigint | undefined {
  const x = decimalOf(q);
  if (!x || x.digits === 0n) return undefined;
  // The value in units is digits × 10^(exp − scale).
  const e = x.exp - scale;
  if (e >= 0) return undefined;
  if (-e > x.digits.toString().length) return 1n;
  const unit = 10n ** BigInt(-e);
  return x.digits % unit === 0n ? undefined : x.digits / unit + 1n;
}

/**
 * A CPU quantity finer than a millicore, rounded up to whole millicores as the apiserver stores a
 * container's CPU ("0.0001" is kept as 1m, "1.5m" as 2m, "1e-500" as 1m); undefined when it is whole
 * millicores already, or not a quantity. Rendered unrounded, it never equals what the apiserver holds.
 */
export function cpuRoundedToMilli(q: Quantity): string | undefined {
  const units = roundedUp(q, -3);
  return units === undefined ? undefined : `${units}m`;
}

/**
 * A memory quantity with a fraction of a byte, rounded up to whole bytes ("134217728.0001" is
 * 134217729); undefined when it is whole bytes already, or not a quantity. The apiserver keeps a
 * fraction to a thousandth of a byte, so one finer never equals what it holds, and a fraction of a
 * byte means nothing to a container.
 */
export function memoryRoundedToBytes(q: Quantity): string | undefined {
  const units = roundedUp(q, 0);
  return units === undefined ? undefined : `${units}`;
}

/**
 * Compares two quantities by value, exactly: negative when a < b, 0 when equal, positive when a > b;
 * undefined when either is not a quantity.
 */
export function compareQuantities(a: Quantity, b: Quantity): number | undefined {
  const x = exact(a);
  const y = exact(b);
  if (!x || !y) return undefined;
  const e = Math.min(x.exp, y.exp);
  const xs = x.digits * 10n ** BigInt(x.exp - e);
  const ys = y.digits * 10n ** BigInt(y.exp - e);
  return xs < ys ? -1 : xs > ys ? 1 : 0;
}

/**
 * compareQuantities for any two well-formed quantities, as CEL compares them: past its exponent bound
 * (10^±400, "1e1000") the approximate values decide.
 */
export function compareAnyQuantities(a: Quantity, b: Quantity): number {
  return compareQuantities(a, b) ?? Math.sign((parseQuantity(a) ?? 0) - (parseQuantity(b) ?? 0));
}

/** Whether a quantity is a whole number ("2", "2000m", "1e3"; not "1500m"); undefined when it is none. */
export function isWholeQuantity(q: Quantity): boolean | undefined {
  const x = exact(q);
  if (!x) return undefined;
  return x.exp >= 0 || x.digits % 10n ** BigInt(-x.exp) === 0n;
}

/**
 * The exact value of a whole quantity in base units, as a bigint ("2Gi" is 2147483648n, "2000m" is 2n,
 * "1.5Gi" is 1610612736n); undefined when it is not a quantity or not a whole number ("1500m").
 */
export function wholeQuantityValue(q: Quantity): bigint | undefined {
  const x = exact(q);
  if (!x) return undefined;
  if (x.exp >= 0) return x.digits * 10n ** BigInt(x.exp);
  const scale = 10n ** BigInt(-x.exp);
  return x.digits % scale === 0n ? x.digits / scale : undefined;
}
