// An id the Messages API sends (a message's `id`, the `request-id` header): `msg_01XFDUDYJgAACzvnptvVoYEL`,
// `req_011CSHoEeqs5C3K2XzZkG7pS`. Kept only in that shape: it reaches callers (in error messages),
// spans and the cache, and whatever answers at claude.base_url (a proxy, a gateway) may echo the
// request there, its API key included. A key's alphabet has `-`, which no id of the API holds, and a
// cut to a length would still keep most of a key.

const ID_SHAPE = /^[A-Za-z]{1,16}_[A-Za-z0-9_]{1,128}$/;

/** `v` when it is an id of the API's shape; undefined otherwise (dropped, never trimmed). */
export function upstreamId(v: unknown): string | undefined {
  return typeof v === 'string' && ID_SHAPE.test(v) ? v : undefined;
}
