// How the tuner writes times and figures into status and its messages.

/** metav1.Time has second precision; writing the same form keeps comparisons exact. */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A figure rounded to two decimals, as a string. */
export const dec = (n: number): string => String(Math.round(n * 100) / 100);
