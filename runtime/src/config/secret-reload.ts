import { ConfigError } from '../errors.ts';
import { readSecretFile, readTokenFile } from './secrets.ts';

// A mounted Secret changes in place when it is rotated (the kubelet swaps its files within about a
// minute), but a process that read it once at start-up keeps the old value until it restarts: the
// operator, which reads the Secret itself, was refused by every pod until they were rolled. This
// re-reads one such file; the composition root runs it on a timer and applies a changed value.

export interface SecretFileReload {
  /** Reads the file again: its value when it changed, else undefined. A failed read (a file
   * missing mid-swap, emptied, oversized, not one token) keeps the value in use, and is reported once. */
  check(): Promise<string | undefined>;
}

export function secretFileReload(o: {
  readonly path: string;
  /** The config key that names the file, for errors. */
  readonly field: string;
  /** The value read at start-up. */
  readonly current: string;
  readonly maxBytes: number;
  readonly onError: (message: string) => void;
  /**
   * Reads and checks the file (throwing a ConfigError naming what is wrong, never the secret):
   * one token by default; the client keys file passes its own (config/api-keys.ts).
   */
  readonly read?: (path: string, field: string, maxBytes: number) => Promise<string>;
}): SecretFileReload {
  const read = o.read ?? readTokenFile;
  let value = o.current;
  let failed: string | undefined;
  return {
    async check() {
      let text: string;
      try {
        text = await read(o.path, o.field, o.maxBytes);
      } catch (e) {
        const message = describe(e);
        if (message !== failed) o.onError(message);
        failed = message;
        return undefined;
      }
      failed = undefined;
      if (text === value) return undefined;
      value = text;
      return text;
    },
  };
}

/**
 * A reader for secretFileReload that checks the file's text (`check` throws a ConfigError) only when
 * it differs from the last text read: a client keys file of thousands of entries costs a YAML parse
 * of 100 ms or more, and one that stays as it is, good or bad, was parsed again at every tick.
 */
export function checkedOnChange(
  check: (text: string, field: string) => unknown,
  /** The text read (and checked) at start-up: not checked again while the file holds it. */
  initial?: string,
): (path: string, field: string, maxBytes: number) => Promise<string> {
  let last: { text: string; error?: unknown } | undefined =
    initial === undefined ? undefined : { text: initial };
  return async (path, field, maxBytes) => {
    const text = await readSecretFile(path, field, maxBytes);
    if (last?.text !== text) {
      last = { text };
      try {
        check(text, field);
      } catch (e) {
        last.error = e;
      }
    }
    if (last.error !== undefined) throw last.error;
    return text;
  };
}

/**
 * A failed read for the log: each problem's key and the first line of its message. A YAML parser's
 * message goes on with the lines around the error, which would quote the file (its keys).
 */
function describe(e: unknown): string {
  if (e instanceof ConfigError)
    return e.problems.map((p) => `${p.field}: ${p.message.split('\n')[0]}`).join('; ');
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}
