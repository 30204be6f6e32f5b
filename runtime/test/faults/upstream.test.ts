import { afterEach, describe, expect, it } from 'vitest';
import { STALE_RETRIES } from '../../src/claude/dispatcher-fetch.ts';
import {
  apiError,
  type FakeMessagesApi,
  message,
  promptOf,
  reset,
  startFakeMessagesApi,
} from '../support/fake-messages-api.ts';
import type { RuntimeProcess } from '../support/process.ts';
import { expectOpened, Scenario, scrape } from './harness.ts';
import { sumOf } from './prom-text.ts';
import type { ScenarioRecord } from './recorder.ts';
import { BREAKER, deadPort, relay, spawnApiRuntime } from './upstreams.ts';

// Fault matrix, upstream side: a real runtime process in `api` mode (the real SDK) against the fake
// Messages API on loopback, each fault with a bounded burst of concurrent requests, then recovery.
// Breaker: open after 5 failures, half-open after 1 s, closed after 2 successes.

const TEST = 'runtime/test/faults/upstream.test.ts';
const BURST = 100;

let fake: FakeMessagesApi | undefined;
let rt: RuntimeProcess | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await rt?.stop('SIGKILL');
  await fake?.close();
  for (const c of cleanups.splice(0)) await c();
  rt = undefined;
  fake = undefined;
});

const job = (i: number) => ({ content: `job ${i}` });
const probe = (i: number) => ({ content: `probe ${i}` });

/** Spawns the runtime against `baseUrl`, with a scenario watching its breakers. */
async function spawn(baseUrl: string, o: Parameters<typeof spawnApiRuntime>[1] = {}) {
  rt = await spawnApiRuntime(baseUrl, o);
  const sc = new Scenario([{ label: 'runtime', url: rt.url }]);
  sc.watchBreakers();
  return { rt, sc };
}

async function start(o: Parameters<typeof spawnApiRuntime>[1] = {}) {
  fake = await startFakeMessagesApi();
  return { fake, ...(await spawn(fake.url, o)) };
}

/** After the breaker re-opened on its own (half-open after 1 s), two successes close it. */
async function closeAfterRecovery(sc: Scenario) {
  expect((await sc.observe('runtime'))['claude-api']).toBe('half-open');
  expect((await sc.send('runtime', probe(-1))).outcome).toBe('completed');
  expect((await sc.observe('runtime'))['claude-api']).toBe('closed');
}

/** Probes until the runtime answers again, sees its breaker close, and records the scenario. */
async function recoverAndFinish(sc: Scenario, row: Pick<ScenarioRecord, 'id' | 'fault' | 'expected'>) {
  const recoveryMs = await sc.recover('runtime', probe);
  await closeAfterRecovery(sc);
  await sc.finish({ ...row, test: TEST, recoveryMs }, { alive: ['runtime'] });
}

/** Every request failed; the first `failure_threshold` or more reached upstream, the rest failed fast. */
async function expectBreakerFailFast(
  sc: Scenario,
  fake: FakeMessagesApi,
  code: string,
  status: number,
  answers: any[],
  /** Requests the upstream saw per failed call (a reset before any answer is sent again, STALE_RETRIES). */
  sentPerCall = 1,
) {
  const t = sc.tally();
  expect(t.failed).toBe(BURST);
  expect(t.codes[code]).toBeGreaterThanOrEqual(BREAKER.failure_threshold);
  expect(t.codes.BREAKER_OPEN).toBeGreaterThan(0);
  expect(t.codes[code]! + t.codes.BREAKER_OPEN!).toBe(BURST);
  // Fail-fast answers never reached the upstream.
  expect(fake.requests.length).toBe(t.codes[code]! * sentPerCall);
  for (const { answer } of answers) {
    const c = answer.body.errors[0].code;
    expect(answer.status).toBe(c === 'BREAKER_OPEN' ? 503 : status);
  }
  await expectOpened(sc, 'runtime', 'claude-api');
}

describe('fault matrix: the Messages API', { timeout: 60_000 }, () => {
  it('upstream 500s open the breaker at the threshold, then fail fast; it closes after recovery', async () => {
    const { fake, sc } = await start();
    fake.respond(apiError(500));
    const answers = await sc.burst('runtime', BURST, job);
    await expectBreakerFailFast(sc, fake, 'UPSTREAM_ERROR', 502, answers);
    fake.respond(message('RESULT: ok'));
    await recoverAndFinish(sc, {
      id: '01-upstream-500',
      fault: 'Messages API answers 500 to every call',
      expected: `UPSTREAM_ERROR (502) until ${BREAKER.failure_threshold} failures open the breaker, then BREAKER_OPEN (503 + Retry-After) without calling upstream; half-open after ${BREAKER.timeout_seconds} s, closed after ${BREAKER.success_threshold} successes`,
    });
  });

  it('429 with retry-after is retried when the wait fits the deadline, else UPSTREAM_RATE_LIMITED', async () => {
    const { fake, rt, sc } = await start({
      claude: { retry: { max_retries: 2, base_delay_ms: 10, max_delay_ms: 100 } },
      performance: {
        // A retry waits holding its slot and upstream permit: room for the whole burst to wait at once.
        max_concurrent_signals: BURST,
        max_concurrent_neurons: BURST,
        // The breaker at the scenario's threshold (5): 429 is admission control, not a failure, so
        // the half that end UPSTREAM_RATE_LIMITED must not open it (the later requests still pass).
        circuit_breaker: BREAKER,
      },
    });
    const attempts = new Map<string, number>();
    fake.respond((req) => {
      const content = promptOf(req).user;
      const n = (attempts.get(content) ?? 0) + 1;
      attempts.set(content, n);
      if (content.startsWith('far')) return apiError(429, { retryAfter: '60' });
      return n === 1 ? apiError(429, { retryAfter: '1' }) : message('RESULT: ok');
    });
    const half = BURST / 2;
    const answers = await sc.burst('runtime', BURST, (i) => ({
      content: `${i < half ? 'near' : 'far'} ${i}`,
    }));
    const t = sc.tally();
    expect(t.completed).toBe(half);
    expect(t.failed).toBe(half);
    expect(t.codes).toEqual({ UPSTREAM_RATE_LIMITED: half });
    for (const { answer } of answers.slice(0, half)) expect(answer.body.trace[0].retries).toBe(1);
    for (const { answer } of answers.slice(half)) expect(answer.status).toBe(502);
    // Retried once each where retry-after fit the 30 s deadline, never where it did not.
    expect(fake.requests.length).toBe(half * 2 + half);
    const samples = (await scrape(rt.url))!;
    expect(sumOf(samples, 'hal9_upstream_retries_total', { status: '429' })).toBe(half);
    fake.respond(message('RESULT: ok'));
    const recoveryMs = await sc.recover('runtime', probe);
    const rec = await sc.finish(
      {
        id: '02-upstream-429',
        fault:
          'Messages API answers 429: half the requests with retry-after 1 s (then 200), half with retry-after 60 s',
        expected:
          'retry-after within the 30 s deadline: retried once and completed; beyond it: no retry, UPSTREAM_RATE_LIMITED (502); the breaker stays closed (429 is not a failure)',
        test: TEST,
        recoveryMs,
        notes: `${half} requests ended UPSTREAM_RATE_LIMITED against a breaker that opens at ${BREAKER.failure_threshold} failures, and it stayed closed: 429 is the upstream's admission control, not a fault; a waiting retry holds its executor slot and upstream permit`,
      },
      { alive: ['runtime'] },
    );
    expect(rec.breakerStates['claude-api']).toEqual(['closed']);
  });

  it('429 with retry-after-ms 100 is retried after 100 ms, not a whole second', async () => {
    const { fake, sc } = await start({
      claude: { retry: { max_retries: 2, base_delay_ms: 10, max_delay_ms: 100 } },
    });
    fake.respond(message('RESULT: ok'));
    // The process's first call is its slowest (connection, lazy loading): made before, it leaves the
    // deadline below to the 429, the wait and the retry.
    expect((await sc.send('runtime', { content: 'warm-up' })).outcome).toBe('completed');
    fake.script(apiError(429, { retryAfterMs: '100' }));
    // One second, the most that tells the two apart on any machine: a wait of a whole second never
    // fits before it (the wait starts after the request arrived), the 100 ms asked for does.
    const { outcome, answer } = await sc.send('runtime', { content: 'x' }, '?timeout_ms=1000');
    expect(answer.body.errors).toEqual([]);
    expect(outcome).toBe('completed');
    expect(answer.body.trace[0].retries).toBe(1);
    expect(fake.requests).toHaveLength(3);
  });

  it('529 is retried, then the fallback model answers; the primary is used again once it recovers', async () => {
    const { fake, rt, sc } = await start({
      neuron: { fallback_models: ['claude-fallback-1'] },
      claude: { retry: { max_retries: 1, base_delay_ms: 5, max_delay_ms: 20 } },
    });
    fake.respond((req) =>
      req.body.model === 'claude-fallback-1' ? message('RESULT: from fallback') : apiError(529),
    );
    const answers = await sc.burst('runtime', BURST, job);
    const t = sc.tally();
    expect(t.completed).toBe(BURST);
    for (const { answer } of answers) {
      expect(answer.body.results[0].content).toBe('from fallback');
      expect(answer.body.trace[0]).toMatchObject({
        model: 'claude-fallback-1',
        fellBackFrom: ['claude-test-1'],
      });
    }
    const primaryCalls = fake.requests.filter((r) => r.body.model === 'claude-test-1').length;
    // The primary's breaker opened, so most requests went straight to the fallback.
    expect(primaryCalls).toBeLessThan(BURST);
    const samples = (await scrape(rt.url))!;
    expect(sumOf(samples, 'hal9_upstream_retries_total', { status: '529' })).toBeGreaterThan(0);
    expect(sumOf(samples, 'hal9_model_fallbacks_total', { to: 'claude-fallback-1' })).toBe(BURST);
    await expectOpened(sc, 'runtime', 'claude-api');

    fake.respond(message('RESULT: primary'));
    const recoveryMs = await sc.recover('runtime', probe, {
      done: (a) => a.body.trace[0].model === 'claude-test-1',
    });
    await closeAfterRecovery(sc);
    const rec = await sc.finish(
      {
        id: '03-upstream-529',
        fault: 'Messages API answers 529 for the primary model; a fallback model is configured',
        expected:
          'retried (claude.retry), then answered by the fallback model; the primary breaker opens and later requests go straight to the fallback; the primary answers again after recovery',
        test: TEST,
        recoveryMs,
        notes: `${primaryCalls} calls reached the primary model for ${BURST} requests; recovery = until the primary model answers again`,
      },
      { alive: ['runtime'] },
    );
    expect(rec.breakerStates['claude-api:claude-fallback-1']).toEqual(['closed']);
  });

  it('answers slower than claude.timeout_ms end as UPSTREAM_TIMEOUT (504) and open the breaker', async () => {
    // Every call that times out must have reached the fake first (counted against fake.requests): the
    // first calls of a fresh process under a burst take over 100 ms to get there on an idle machine.
    const timeoutMs = 1000;
    const { fake, sc } = await start({ claude: { timeout_ms: timeoutMs } });
    fake.respond(message('RESULT: too late', {}, { delayMs: 3000 }));
    const answers = await sc.burst('runtime', BURST, job);
    await expectBreakerFailFast(sc, fake, 'UPSTREAM_TIMEOUT', 504, answers);
    fake.respond(message('RESULT: ok'));
    await recoverAndFinish(sc, {
      id: '04-upstream-slow',
      fault: `Messages API answers after 3 s; claude.timeout_ms is ${timeoutMs}`,
      expected: 'UPSTREAM_TIMEOUT (504) at the call timeout, then BREAKER_OPEN (503) after the threshold',
    });
  });

  it('connection resets end as UPSTREAM_CONNECTION (502) and open the breaker', async () => {
    const { fake, sc } = await start();
    fake.respond(reset());
    const answers = await sc.burst('runtime', BURST, job);
    await expectBreakerFailFast(sc, fake, 'UPSTREAM_CONNECTION', 502, answers, 1 + STALE_RETRIES);
    fake.respond(message('RESULT: ok'));
    await recoverAndFinish(sc, {
      id: '05-upstream-reset',
      fault: 'Messages API resets every connection without answering',
      expected:
        'UPSTREAM_CONNECTION (502), then BREAKER_OPEN (503) after the threshold; new connections after recovery',
    });
  });

  it('a dead upstream (nothing listening) ends as UPSTREAM_CONNECTION and opens the breaker', async () => {
    fake = await startFakeMessagesApi();
    const port = await deadPort();
    const { sc } = await spawn(`http://127.0.0.1:${port}`);
    const answers = await sc.burst('runtime', BURST, job);
    const t = sc.tally();
    expect(t.failed).toBe(BURST);
    expect(t.codes.UPSTREAM_CONNECTION).toBeGreaterThanOrEqual(BREAKER.failure_threshold);
    expect(t.codes.UPSTREAM_CONNECTION! + (t.codes.BREAKER_OPEN ?? 0)).toBe(BURST);
    expect(t.codes.BREAKER_OPEN).toBeGreaterThan(0);
    for (const { answer } of answers)
      expect(answer.status).toBe(answer.body.errors[0].code === 'BREAKER_OPEN' ? 503 : 502);
    await expectOpened(sc, 'runtime', 'claude-api');
    // The upstream comes to life on the same port.
    const live = await relay(port, Number(new URL(fake.url).port));
    cleanups.push(() => live.close());
    await recoverAndFinish(sc, {
      id: '06-upstream-dead',
      fault: 'nothing listens at claude.base_url (connection refused)',
      expected:
        'UPSTREAM_CONNECTION (502), then BREAKER_OPEN (503) after the threshold; answers once the upstream listens',
    });
  });
});
