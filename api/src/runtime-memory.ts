import { compareQuantities, isQuantity, type Quantity, quantityString } from './quantity.ts';

/**
 * The least memory the CRDs admit for the runtime container. A runtime holds about 100 MB once it
 * listens, so a limit below 128Mi gets it OOM-killed at start; a request below 64Mi is overcommitted
 * far beyond what any runtime uses. Below these, the amount is nearly always a unit mistake: a bare
 * number is bytes (`memory: 512`), and "m" is milli (`"512m"` is 0.512 bytes).
 */
export const runtimeMemoryFloor = { requests: '64Mi', limits: '128Mi' } as const;

const bare = /^\+?[0-9]+$/;
const milli = /^\+?([0-9]+(\.[0-9]+)?|\.[0-9]+)m$/;

/**
 * The CRDs' message (the messageExpression of their rule on `resources.<side>.memory`, word for word)
 * for a memory amount below its floor; undefined when it is not below it, or is not a quantity (its
 * own rule reports that). The message names what the amount means and, for a bare number or a
 * milli amount, the unit it was likely meant in (`512` → 512Mi, `4` → 4Gi).
 */
export function runtimeMemoryProblem(side: 'requests' | 'limits', q: Quantity): string | undefined {
  const floor = runtimeMemoryFloor[side];
  if (!isQuantity(q) || (compareQuantities(q, floor) ?? 0) >= 0) return undefined;
  const s = quantityString(q);
  const n = s.replace('m', '');
  const what = bare.test(s)
    ? `${s} bytes (a number without a unit is bytes)`
    : milli.test(s)
      ? `${n} thousandths of a byte (m is milli)`
      : 'too little';
  const reaches = (unit: string) => (compareQuantities(`${n}${unit}`, floor) ?? -1) >= 0;
  const hint = !(bare.test(s) || milli.test(s))
    ? '.'
    : reaches('Mi')
      ? `; did you mean ${n}Mi?`
      : reaches('Gi')
        ? `; did you mean ${n}Gi?`
        : '.';
  return `resources.${side}.memory ${s} is ${what}${hint} A runtime holds about 100 MB once it listens: a memory request must be at least ${runtimeMemoryFloor.requests} and a limit at least ${runtimeMemoryFloor.limits}`;
}
