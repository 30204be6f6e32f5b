import { ConfigError } from '../errors.ts';
import { FileRefused, readBoundedFile } from './bounded-file.ts';

// Mounted secrets (API key, admin token, peer token, client keys): read once at start-up. A file the
// config names but that is missing, unreadable, not a regular file, empty or oversized stops the start with the key to fix:
// an empty token read as "no token" would leave the route it guards open. A token file must hold one
// token a client can send: one with a space inside would be accepted here and then refuse every call.

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
    text = (await readBoundedFile(path, maxBytes)).trim();
  } catch (e) {
    if (e instanceof FileRefused) throw fail(e.message);
    throw fail(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (text === '') throw fail(`${path} is empty`);
  return text;
}

/**
 * The shortest admin or peer token taken, as for client keys (config/api-keys.ts): a token that
 * guards a route must not be found by trying. The Anthropic API key is not ours to judge.
 */
export const MIN_TOKEN_CHARS = 16;

/**
 * Why `token` cannot be a token sent in an HTTP header (`Authorization: Bearer <token>`, `x-api-key`),
 * or undefined. Visible ASCII only: the bearer parser stops at whitespace, and a byte outside ASCII
 * reaches the server as another character, so such a token would be refused on every request.
 */
export function tokenProblem(token: string, minChars = 1): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(token))
    return 'must be one token of visible ASCII characters, with no space or line break inside (it is sent in an HTTP header)';
  if (token.length < minChars)
    return `must be at least ${minChars} characters long, so it cannot be guessed (make one with: openssl rand -hex 32)`;
  return undefined;
}

/** A file holding one token (admin, peer, API key): read as readSecretFile does, then checked; `minChars` as tokenProblem. */
export async function readTokenFile(
  path: string,
  field: string,
  maxBytes = MAX_SECRET_FILE_BYTES,
  minChars = 1,
): Promise<string> {
  const text = await readSecretFile(path, field, maxBytes);
  // The message names the file, never the token.
  const problem = tokenProblem(text, minChars);
  if (problem) throw new ConfigError([{ field, message: `${path} ${problem}` }]);
  return text;
}
