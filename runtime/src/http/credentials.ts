import { createHash, timingSafeEqual } from 'node:crypto';

// Bearer credentials: named keys compared in constant time. Keys are kept only as SHA-256 digests
// (equal length, so timingSafeEqual never short-circuits on length) and every key is compared, so
// the time taken says nothing about which key nearly matched. Names go to logs and metrics; keys never.

export type Credentials = ReadonlyMap<string, Buffer>;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export const credentials = (named: ReadonlyMap<string, string>): Credentials =>
  new Map([...named].map(([name, key]) => [name, digest(key)]));

/** One named key that can be replaced while the server runs (a rotated Secret, re-read from its file). */
export interface RotatingCredential {
  readonly credentials: Credentials;
  set(key: string): void;
}

export function rotatingCredential(name: string, key: string): RotatingCredential {
  const map = new Map([[name, digest(key)]]);
  return { credentials: map, set: (k) => void map.set(name, digest(k)) };
}

// RFC 9110 §11.1: the scheme is case-insensitive, and one or more spaces may follow it. Keys are
// visible ASCII (config/api-keys.ts), so the credential is one run of non-space characters.
const BEARER = /^bearer +(\S+)$/i;

/** The name of the key the Authorization header carries, or undefined. */
export function authenticate(creds: Credentials, header: string | undefined): string | undefined {
  const m = BEARER.exec(header ?? '');
  if (!m) return undefined;
  const given = digest(m[1]!);
  let found: string | undefined;
  for (const [name, want] of creds) if (timingSafeEqual(given, want) && found === undefined) found = name;
  return found;
}
