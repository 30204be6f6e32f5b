import { constants, open } from 'node:fs/promises';
import { OperatorError, OperatorErrorCode } from '../errors.ts';

// The bearer token the operator sends to its own Prometheus (--prometheus-bearer-token-file): a
// mounted file, such as the service account's projected token, which the kubelet rotates. Read at
// most once per `ttlMs`, so a rotation is taken up within it; a failed read fails the query that
// needed it (MetricsUnavailable, naming the flag), never with the token or the file's content.

/** The most a token file may hold: a service account token is about 1 KB. */
export const MAX_TOKEN_FILE_BYTES = 64 * 1024;

export interface TokenFileOptions {
  readonly path: string;
  readonly now: () => number;
  /** @default 60 s */
  readonly ttlMs?: number;
  /** Injected for tests; node:fs by default. */
  readonly read?: (path: string) => Promise<Buffer>;
}

export function bearerTokenFile(o: TokenFileOptions): () => Promise<string> {
  const ttlMs = o.ttlMs ?? 60_000;
  const read = o.read ?? readBounded;
  let kept: { token: string; at: number } | undefined;
  const fail = (why: string) =>
    new OperatorError(
      OperatorErrorCode.MetricsUnavailable,
      `--prometheus-bearer-token-file ${o.path}: ${why}`,
    );
  return async () => {
    if (kept && o.now() - kept.at < ttlMs) return kept.token;
    let bytes: Buffer;
    try {
      bytes = await read(o.path);
    } catch (e) {
      throw fail(`cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (bytes.length > MAX_TOKEN_FILE_BYTES) throw fail(`holds more than ${MAX_TOKEN_FILE_BYTES} bytes`);
    const token = bytes.toString('utf8').trim();
    // A header cannot carry it: refused here rather than as a malformed request.
    if (!/^[\x21-\x7e]+$/.test(token))
      throw fail('must hold one token of visible ASCII characters (it is sent in an HTTP header)');
    kept = { token, at: o.now() };
    return token;
  };
}

/**
 * At most MAX_TOKEN_FILE_BYTES + 1 bytes of a regular file (one byte more tells an oversized file):
 * a FIFO or a device named by mistake (/dev/zero) neither hangs the read nor fills the memory.
 */
async function readBounded(path: string): Promise<Buffer> {
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await file.stat()).isFile())
      throw Object.assign(new Error(`${path} is not a regular file`), { code: 'ENOTFILE' });
    const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return buffer.subarray(0, length);
  } finally {
    await file.close();
  }
}
