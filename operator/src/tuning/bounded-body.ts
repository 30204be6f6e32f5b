// A pod's HTTP answer read with a size cap. Response.text() buffers whatever the pod sends before
// any check can run: one pod streaming without end (a bug, or anything else listening on its
// address) grew the operator to about 600 MB within the 1 s read deadline (its limit is 256 Mi,
// and 16 reads run at once). Reading stops, and the connection is dropped, past `max` bytes.

export interface BoundedBody {
  /** The body, or its first `max` bytes when it was larger. */
  readonly text: string;
  /** The body was larger than `max` bytes (or said so in Content-Length): `text` is a prefix. */
  readonly truncated: boolean;
}

/** Reads at most `max` bytes of `res`'s body; cancels the rest. Throws what the body stream throws. */
export async function readBounded(res: Response, max: number): Promise<BoundedBody> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return { text: '', truncated: true };
  }
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
    const room = max - size;
    if (value.byteLength > room) {
      chunks.push(value.subarray(0, room));
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(value);
    size += value.byteLength;
  }
}
