import { setTimeout as sleep } from 'node:timers/promises';
import { HarnessError, HarnessErrorCode } from './errors.ts';

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Extra context for the timeout error, e.g. the tail of a process log. */
  readonly describe?: () => string;
  /** Stops waiting early (a process died); returns a reason or undefined. */
  readonly abortReason?: () => string | undefined;
}

/**
 * Polls `probe` until it returns a value other than undefined. Probe errors count as "not yet"
 * and the last one is reported on timeout.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 100;
  let lastError: unknown;
  for (;;) {
    const aborted = opts.abortReason?.();
    if (aborted !== undefined) {
      throw new HarnessError(HarnessErrorCode.ProcessExited, `${what}: ${aborted}${suffix(opts)}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const last = lastError === undefined ? '' : ` (last error: ${errorText(lastError)})`;
      throw new HarnessError(
        HarnessErrorCode.Timeout,
        `timed out after ${opts.timeoutMs} ms waiting for ${what}${last}${suffix(opts)}`,
        { cause: lastError },
      );
    }
    await sleep(interval);
  }
}

function suffix(opts: WaitOptions): string {
  const extra = opts.describe?.();
  return extra ? `\n${extra}` : '';
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n').slice(0, 3).join(' ');
  return String(err);
}
