import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeMessagesApi,
  type RecordedRequest,
  startFakeMessagesApi,
} from './support/fake-messages-api.ts';
import { type RuntimeProcess, spawnRuntime } from './support/process.ts';
import { neuron } from './support/runtime.ts';

// A hostile upstream echoes the request's credentials back in every error it can. Nothing the runtime
// emits — responses, stored results, event streams, metrics, logs — may contain the API key.

const KEY = 'sk-ant-secret-5f1e2d3c4b5a69788796a5b4c3d2e1f0';
let fake: FakeMessagesApi | undefined;
let proc: RuntimeProcess | undefined;
afterEach(async () => {
  await proc?.stop('SIGKILL');
  await fake?.close();
  proc = undefined;
  fake = undefined;
});

const echo = (req: RecordedRequest) =>
  `you sent x-api-key=${req.headers['x-api-key']} auth=${req.headers.authorization}`;

describe('redaction', () => {
  it('never lets an upstream that echoes credentials leak the API key', async () => {
    fake = await startFakeMessagesApi();
    fake.respond((req) => ({
      kind: 'error',
      status: [500, 529, 429, 400][fake!.requests.length % 4]!,
      type: echo(req),
      message: echo(req),
      headers: { 'request-id': `req_${echo(req)}` },
    }));
    proc = await spawnRuntime(
      {
        neurons: [neuron('impl-1', 'L2')],
        claude: { mode: 'api', base_url: fake.url, retry: { max_retries: 0 } },
        performance: { cache_layers: [], circuit_breaker: { failure_threshold: 100 } },
      },
      { ANTHROPIC_API_KEY: KEY, HAL9_LOG_LEVEL: 'debug' },
    );
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${proc.url}/v1/signals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: `try ${i}` }),
      });
      seen.push(await res.text());
      const later = await fetch(`${proc.url}/v1/signals?wait=false`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: `later ${i}` }),
      });
      const { id } = (await later.json()) as { id: string };
      // The event stream ends with the run, so the stored result read after it is the final one.
      seen.push(await (await fetch(`${proc.url}/v1/signals/${id}/events`)).text());
      const stored = await (await fetch(`${proc.url}/v1/signals/${id}`)).text();
      expect(JSON.parse(stored).status).not.toBe('running');
      seen.push(stored);
    }
    seen.push(await (await fetch(`${proc.url}/metrics`)).text());
    // The upstream did receive the key (the echo is real), and answered with it in every field.
    const h = fake.requests[0]!.headers;
    expect(`${h['x-api-key']} ${h.authorization}`).toContain(KEY);
    expect(seen.join('\n')).toContain('UPSTREAM_');
    // Not the key, and no part of it long enough to matter (a cut to a length keeps most of a key).
    const parts = Array.from({ length: KEY.length - 11 }, (_, i) => KEY.slice(i, i + 12));
    for (const text of seen) for (const part of parts) expect(text).not.toContain(part);
    await proc.stop('SIGTERM');
    for (const part of parts) expect(proc.output()).not.toContain(part);
    expect(proc.output().length).toBeGreaterThan(0);
  });
});
