// A retry hint as an HTTP server sends it, read the same for the model API and for peer pods. No SDK
// import: a mock runtime's peer client reads it too, and loads no model API client.

/** The longest retry hint taken from the model API (an hour, as from a peer); a longer one is cut to it. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * The upstream's retry hint in milliseconds: retry-after-ms, else retry-after in seconds or as an
 * HTTP-date (RFC 9110; what a proxy or gateway at base_url may send), at most MAX_RETRY_AFTER_MS. An
 * upstream may send anything, and callers get it back as a Retry-After header, which must stay a
 * small whole number. A date already past is no wait; an empty or unreadable value is no hint.
 */
export function retryAfterMs(
  headers: { get?(name: string): string | null } | undefined,
  now = Date.now(),
): number | undefined {
  const ms = numeric(headers?.get?.('retry-after-ms'));
  if (ms !== undefined) return Math.min(ms, MAX_RETRY_AFTER_MS);
  const raw = headers?.get?.('retry-after');
  if (raw == null) return undefined;
  const s = numeric(raw);
  if (s !== undefined) return Math.min(s * 1000, MAX_RETRY_AFTER_MS);
  // An HTTP-date starts with the day's name (Date.parse alone would read "-1" as a year).
  const at = /^[A-Za-z]{3}/.test(raw) ? Date.parse(raw) : Number.NaN;
  return Number.isFinite(at) ? Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS) : undefined;
}

const numeric = (v: string | null | undefined): number | undefined => {
  if (v == null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};
