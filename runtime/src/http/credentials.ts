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

/**
 * A set of named keys replaced whole while the server runs (a rotated client keys file): the digests
 * are made first, then the map's contents are swapped in one synchronous step, so no request ever
 * sees a mix of the old set and the new one. Guards keep the same map, so they see the new set.
 */
export interface RotatingCredentials {
  readonly credentials: Credentials;
  set(named: ReadonlyMap<string, string>): void;
}

export function rotatingCredentials(named: ReadonlyMap<string, string>): RotatingCredentials {
  const map = new Map(credentials(named));
  return {
    credentials: map,
    set(next) {
      const digests = credentials(next);
      map.clear();
      for (const [name, d] of digests) map.set(name, d);
    },
  };
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
