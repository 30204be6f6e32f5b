// A bounded closed-loop load: `workers` concurrent clients POST /v1/signals until `maxRequests`
// accepted requests or `maxMs` have passed. A 429 makes the client back off, as Retry-After asks.

export interface LoadOptions {
  readonly url: string;
  readonly content: (i: number) => string;
  readonly workers: number;
  readonly maxRequests: number;
  readonly maxMs: number;
  readonly backoffMs: number;
  /** Pause between a worker's requests, to spread a small load over several scrapes. */
  readonly paceMs?: number;
  /** How long a client waits for its answer before it gives up (default 30 s). */
  readonly timeoutMs?: number;
  /** Extra headers of request `i` (e.g. a client key). */
  readonly headers?: (i: number) => Readonly<Record<string, string>>;
}

export async function driveLoad(o: LoadOptions): Promise<Record<string, number>> {
  const byStatus: Record<string, number> = {};
  const deadline = Date.now() + o.maxMs;
  let next = 0;
  let accepted = 0;
  const worker = async () => {
    while (accepted < o.maxRequests && Date.now() < deadline) {
      const i = next++;
      let status = 'error';
      try {
        const res = await fetch(`${o.url}/v1/signals`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...o.headers?.(i) },
          body: JSON.stringify({ content: o.content(i) }),
          signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
        });
        await res.arrayBuffer();
        status = String(res.status);
      } catch (err) {
        status = (err as Error).name === 'TimeoutError' ? 'gave up' : 'network';
      }
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      if (status === '429') await new Promise((r) => setTimeout(r, o.backoffMs));
      else accepted++;
      if (o.paceMs) await new Promise((r) => setTimeout(r, o.paceMs));
    }
  };
  await Promise.all(Array.from({ length: o.workers }, worker));
  return byStatus;
}
