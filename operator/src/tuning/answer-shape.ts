// How an answer the operator cannot read is described in logs and status. Never its text: whatever
// answers at a pod's address or a custom resource's URL may echo the request (its bearer token), and
// a condition quoting a body that changes on every answer would be rewritten on every pass.

/** The media type of a Content-Type header, when it has a media type's shape; never other text. */
export function mediaTypeOf(header: string | null): string {
  if (header === null) return 'no content type';
  const type = header.split(';')[0]!.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/.test(type)
    ? type
    : 'an unrecognized content type';
}

/** "an answer that is not JSON (text/html, 52 bytes)". */
export function notJson(contentType: string | null, text: string): string {
  return `an answer that is not JSON (${mediaTypeOf(contentType)}, ${Buffer.byteLength(text)} bytes)`;
}
