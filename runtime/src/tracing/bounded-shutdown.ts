import type { Clock } from '../pipeline/clock.ts';

// The trace exporter's last flush, bounded. A collector that refuses connections makes the OTLP
// exporter retry with backoff, and one that accepts and never answers holds the export until the
// export timeout (OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT, 10 s by default, up to 30 s); either then
// rejects. At SIGTERM neither may keep the process past its
// grace period, nor end it with an error: the spans still queued are dropped and the reason returned.

export type FlushOutcome = { readonly flushed: true } | { readonly flushed: false; readonly reason: string };

/** Waits for `shutdown` at most `ms`; never rejects (a late rejection is absorbed too). */
export function shutdownWithin(
  shutdown: () => Promise<void>,
  clock: Clock,
  ms: number,
): Promise<FlushOutcome> {
  return new Promise<FlushOutcome>((resolve) => {
    const timer = clock.setTimeout(
      () => resolve({ flushed: false, reason: `the trace exporter did not finish within ${ms} ms` }),
      ms,
    );
    const settle = (o: FlushOutcome) => {
      clock.clearTimeout(timer);
      resolve(o);
    };
    let pending: Promise<void>;
    try {
      pending = shutdown();
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(
      () => settle({ flushed: true }),
      (e: unknown) => settle({ flushed: false, reason: e instanceof Error ? e.message : String(e) }),
    );
  });
}
