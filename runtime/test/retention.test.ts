import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { RUNTIME_V8_FLAGS } from '../src/node-options.ts';

// Finished requests must die young. A structure that keeps every request in flight (a Set, rebuilt
// in the old generation whenever its size crossed a capacity step) left dead tables there still
// pointing at young requests, and each scavenge then copied whole finished requests (signals,
// traces, results) into the old generation: 547 KB per scavenge in this probe (4 MiB semi-space),
// against about 8 KB after the fix (24 KB with the 16 MiB shipped since). Measured by V8's own GC
// statistics in a process of its own (the runtime's shipped young generation), not by time.

const probe = fileURLToPath(new URL('./support/retention-probe.ts', import.meta.url));
const answerProbe = fileURLToPath(new URL('./support/answer-retention-probe.ts', import.meta.url));
const peerProbe = fileURLToPath(new URL('./support/peer-error-retention-probe.ts', import.meta.url));

async function run(config: unknown, ...args: string[]) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', ...RUNTIME_V8_FLAGS, probe, JSON.stringify(config), ...args],
    { timeout: 60_000 },
  );
  return JSON.parse(stdout) as {
    scavenges: number;
    promotedPerScavenge: number;
    promotedPerRequest: number;
    markCompacts: number;
  };
}

describe('request retention', () => {
  it('moves nothing of finished requests into the old generation while 10 run at once', async () => {
    // No response cache: its entries are meant to live on, and would be promoted by design.
    const r = await run({ performance: { cache_layers: [] } });
    expect(r.scavenges).toBeGreaterThan(20);
    expect(r.promotedPerScavenge).toBeLessThan(64 * 1024);
    expect(r.markCompacts).toBe(0);
  }, 90_000);

  it("moves only the response cache's own entries into the old generation when every content is new", async () => {
    // At the defaults L2's answers are cached, and with a new content per request each one stored
    // lives on (by design) and is promoted: its key, its answer and the cache's bookkeeping, about
    // 500 B a request here. A shared call's context built as an object literal with a getter made
    // V8 build the getter anew per call and moved another 200 B a request there (720 B; bench/README.md).
    const r = await run({});
    expect(r.scavenges).toBeGreaterThan(20);
    expect(r.promotedPerRequest).toBeLessThan(620);
  }, 90_000);

  it('moves little of a model API call into the old generation: the SDK links no signal per call', async () => {
    // Given its `signal` option, the SDK registers each call in a WeakMap and a FinalizationRegistry,
    // and those moved about 280 B a call into the old generation (420 B a request in this probe,
    // against 140 B without; undici's own bookkeeping is about 95 B a call of that).
    const r = await run(
      {
        neurons: [{ id: 'impl-1', layer: 'L2', system_prompt: 'p', forward_connections: [] }],
        performance: { cache_layers: [] },
      },
      'api',
    );
    expect(r.scavenges).toBeGreaterThan(20);
    expect(r.promotedPerRequest).toBeLessThan(250);
  }, 90_000);

  it("keeps no parent's answer alive through the next layer's cached answer", async () => {
    // L3 answers 1 MiB of text, then a short CONTENT for L2, whose answer is cached. The child's
    // content was a piece of the L3 answer, and L2's cache key kept all of it for the cache's TTL
    // (1 MiB a request here), outside the cache's byte budget. It is copied out now (route-answer.ts).
    // A CONTENT that repeats the content L3 was given is as much a piece of its answer.
    for (const variant of [[], ['echo']]) {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--expose-gc', answerProbe, ...variant],
        { timeout: 60_000 },
      );
      const r = JSON.parse(stdout) as { grownPerRequest: number; statuses: string[] };
      expect(r.statuses, variant.join()).toEqual(['completed']);
      expect(r.grownPerRequest, variant.join()).toBeLessThan(100 * 1024);
    }
  }, 120_000);

  it('keeps no whole answer alive through a cut of it: a stop_reason, trimmed padding', async () => {
    // L2's answer carries 1 MiB the runtime does not keep: a stop_reason cut to 256 characters, or
    // whitespace around a short RESULT. Each cut was a view into the whole, kept with the cached
    // answer (1 MiB a request here) while the cache counted the cut. Now copied (completion-of.ts).
    for (const variant of ['stop', 'padded']) {
      const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', answerProbe, variant], {
        timeout: 60_000,
      });
      const r = JSON.parse(stdout) as { grownPerRequest: number; statuses: string[] };
      expect(r.statuses, variant).toEqual(['completed']);
      expect(r.grownPerRequest, variant).toBeLessThan(100 * 1024);
    }
  }, 120_000);

  it("keeps no peer's whole error text alive through the error made of it", async () => {
    // A peer's refusal (503) or outcome with 4 MiB of error code and message: the errors quote at
    // most 64 and 300 characters, and each cut was a view into the whole (4–8 MB an error here),
    // kept in the request's trace and errors. Now copied (read-peer-answer.ts, peer-answer.ts).
    for (const mode of ['refusal', 'outcome']) {
      const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', peerProbe, mode], {
        timeout: 60_000,
      });
      const r = JSON.parse(stdout) as { grownPerError: number; code: string; messageLength: number };
      expect(r.code, mode).toBe('PEER_ERROR');
      expect(r.messageLength, mode).toBeLessThan(500);
      expect(r.grownPerError, mode).toBeLessThan(256 * 1024);
    }
  }, 120_000);
});
