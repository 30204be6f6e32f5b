import { open } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';

// Mounted secrets (API key, admin token, peer token, client keys): read once at start-up. A file the
// config names but that is missing, unreadable, empty or oversized stops the start with the key to fix:
// an empty token read as "no token" would leave the route it guards open.

/** The most a secret file may hold (the client keys file: 1,000 keys of at most 4 KiB). */
export const MAX_SECRET_FILE_BYTES = 8 * 1024 * 1024;

/** The file's text, trimmed; `field` is the config key that named the file. */
export async function readSecretFile(
  path: string,
  field: string,
  maxBytes = MAX_SECRET_FILE_BYTES,
): Promise<string> {
  const fail = (message: string) => new ConfigError([{ field, message }]);
  let text: string;
  try {
    const file = await open(path, 'r');
    try {
      // A mounted Secret is a regular file: its size is known before anything is read.
      if ((await file.stat()).size > maxBytes) throw fail(`${path} is over ${maxBytes} bytes`);
      text = (await file.readFile('utf8')).trim();
    } finally {
      await file.close();
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw fail(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (text === '') throw fail(`${path} is empty`);
  return text;
}
