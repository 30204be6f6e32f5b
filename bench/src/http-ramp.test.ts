import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatorBoundCeiling, type ServerRamp, step } from './http-ramp.ts';
import { type AttackResult, attack, ensureVegeta, writeJsonTargets } from './vegeta.ts';

const run = (o: Partial<AttackResult>): AttackResult => ({
  requests: 3000,
  rate: 1000,
  throughput: 1000,
  errors: 0,
  success: 1,
  p50: 0.3,
  p99: 1,
  max: 2,
  statusCodes: { '200': 3000 },
  ...o,
});

describe('a ramp step', () => {
  it('is a miss when vegeta could not send the rate, and says the generator set it', () => {
    const s = step(20_000, [run({ rate: 15_000 }), run({ rate: 19_990 }), run({ rate: 16_000 })]);
    expect(s.p99).toBe(Number.POSITIVE_INFINITY);
    expect(s.generatorBound).toBe(true);
    // Errors are the server's, not the generator's.
    expect(step(1000, [run({ success: 0.9, rate: 900 })]).generatorBound).toBe(false);
    expect(step(1000, [run({})]).generatorBound).toBe(false);
  });

  it('names a ceiling the generator set: the step above it missed for want of sending', () => {
    const ramp = (above: AttackResult[]): ServerRamp => ({
      steps: [step(16_000, [run({ rate: 16_000 })]), step(20_000, above), step(24_000, above)],
      maxRate: 16_000,
    });
    expect(generatorBoundCeiling(ramp([run({ rate: 18_000 })]))).toBe(true);
    expect(generatorBoundCeiling(ramp([run({ rate: 20_000, p99: 25 })]))).toBe(false);
  });
});

describe('distinct contents', () => {
  it('reach the server one per request, as vegeta reads the JSON targets', async () => {
    const vegeta = await ensureVegeta();
    const seen: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push(`${req.headers['content-type']} ${body}`);
        res.end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = await mkdtemp(join(tmpdir(), 'hal9-bench-test-'));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/echo`;
      const bodies = Array.from({ length: 60 }, (_, i) => JSON.stringify({ content: `c${i}` }));
      const file = await writeJsonTargets(join(dir, 't.json'), { url }, bodies);
      const r = await attack(vegeta, file, { rate: 100, seconds: 0.5, format: 'json' });
      expect(r.requests).toBe(50);
      expect(seen).toEqual(bodies.slice(0, 50).map((b) => `application/json ${b}`));
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
    // Built once from the Go module proxy when missing (scripts/test-all.sh builds it first).
  }, 180_000);
});
