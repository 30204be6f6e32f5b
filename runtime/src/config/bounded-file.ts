import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

// Files the runtime reads at start-up and on reload (its config, mounted secrets). A path that names
// a FIFO would block the open until some writer came (forever, holding one of libuv's four threads),
// and a device such as /dev/zero reports size 0 and never ends: only a regular file is read, and never
// more than its limit, however it grows between the size check and the read.

/** A file that is not a regular file or is over its limit; it names the path, never the text. */
export class FileRefused extends Error {
  /** What is wrong, without the path: "is not a regular file". */
  readonly reason: string;
  constructor(path: string, reason: string) {
    super(`${path} ${reason}`);
    this.reason = reason;
  }
}

const CHUNK_BYTES = 64 * 1024;

/** The text of the regular file at `path`, of at most `maxBytes` bytes. */
export async function readBoundedFile(path: string, maxBytes: number): Promise<string> {
  // O_NONBLOCK only changes how a FIFO opens; reads of a regular file ignore it.
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await file.stat();
    if (!stat.isFile()) throw new FileRefused(path, 'is not a regular file');
    const over = new FileRefused(path, `is over ${maxBytes} bytes`);
    if (stat.size > maxBytes) throw over;
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, total).toString('utf8');
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw over;
    }
  } finally {
    await file.close();
  }
}
