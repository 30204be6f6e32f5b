// How the tuner writes figures into status and its messages (times: status/rfc3339.ts).

/** A figure rounded to two decimals, as a string. */
export const dec = (n: number): string => String(Math.round(n * 100) / 100);
