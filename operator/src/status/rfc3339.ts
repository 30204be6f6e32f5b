/** metav1.Time has second precision; writing the same form keeps comparisons exact. */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
