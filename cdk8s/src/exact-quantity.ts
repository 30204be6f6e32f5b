// Exact comparisons of Kubernetes quantities for the synth-time mirrors of the CRDs' CEL rules. CEL's
// quantity() compares decimal values exactly, so "0.7" equals "700m" and "4.1G" equals "4100M";
// binary floating point does not (0.7 < 700 × 0.001), and would reject specs the apiserver accepts.
import { parseQuantity } from '@hal9/api';

// The CRDs' quantity pattern (as in @hal9/api): an optional "+", digits, then a suffix or an exponent.
const QUANTITY = /^\+?(\d*)(?:\.(\d*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][-+]?\d+)?$/;
const binaryPower: Readonly<Record<string, bigint>> = {
  Ki: 10n,
  Mi: 20n,
  Gi: 30n,
  Ti: 40n,
  Pi: 50n,
  Ei: 60n,
};
const decimalPower: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
// Exponents beyond this are not values the apiserver stores (it keeps quantities within int64 nanos).
const maxExponent = 400;

/** value = digits × 10^exp, exactly. */
interface Decimal {
  readonly digits: bigint;
  readonly exp: number;
}

function exact(q: string): Decimal | undefined {
  if (parseQuantity(q) === undefined) return undefined;
  const m = QUANTITY.exec(q.trim());
  if (!m) return undefined;
  const whole = m[1] ?? '';
  const fraction = m[2] ?? '';
  if (whole === '' && fraction === '') return undefined;
  const suffix = m[3] ?? '';
  let digits = BigInt(`${whole}${fraction}` || '0');
  let exp = -fraction.length;
  if (suffix in binaryPower) digits <<= binaryPower[suffix] as bigint;
  else if (suffix in decimalPower) exp += decimalPower[suffix] as number;
  else if (suffix !== '') exp += Number(suffix.slice(1));
  if (Math.abs(exp) > maxExponent) return undefined;
  return { digits, exp };
}

/**
 * Compares two quantities by value, exactly: negative when a < b, 0 when equal, positive when a > b;
 * undefined when either is not a quantity.
 */
export function compareQuantities(a: string, b: string): number | undefined {
  const x = exact(a);
  const y = exact(b);
  if (!x || !y) return undefined;
  const e = Math.min(x.exp, y.exp);
  const xs = x.digits * 10n ** BigInt(x.exp - e);
  const ys = y.digits * 10n ** BigInt(y.exp - e);
  return xs < ys ? -1 : xs > ys ? 1 : 0;
}

/** Whether a quantity is a whole number ("2", "2000m", "1e3"; not "1500m"); undefined when it is none. */
export function isWholeQuantity(q: string): boolean | undefined {
  const x = exact(q);
  if (!x) return undefined;
  return x.exp >= 0 || x.digits % 10n ** BigInt(-x.exp) === 0n;
}
