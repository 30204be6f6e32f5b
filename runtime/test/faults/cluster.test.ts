import { afterEach, describe, expect, it } from 'vitest';
import { type RuntimeProcess, spawnRuntime } from '../support/process.ts';
import { expectOpened, Scenario, scrape, waitUntil } from './harness.ts';
import { sumOf } from './prom-text.ts';
import { BREAKER, mockAnswer, neuron } from './upstreams.ts';

// Fault matrix, cluster mode: runtime processes on loopback that forward to each other (mock mode, so
// the peers are the only thing that fails), one of them SIGKILLed while a burst is in flight, or
// stopped (SIGSTOP: its connections are still accepted, and nothing is answered).

const TEST = 'runtime/test/faults/cluster.test.ts';
const QUIET = { HAL9_LOG_LEVEL: 'info' };

const procs: RuntimeProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
});

async function spawn(doc: Record<string, unknown>, env: Record<string, string> = {}) {
  const p = await spawnRuntime(doc, { ...QUIET, ...env });
  procs.push(p);
  return p;
}

const portOf = (url: string) => new URL(url).port;
// A process that names another starts after it, at the address it took: a port chosen up front and
// freed again could be taken by any other process on the machine before the runtime binds it.
// Spawning three processes on a busy 2-core machine takes a while; still bounded.
const SLOW = { timeout: 90_000 };
/** A process is working on signals (its executor has a slot taken). */
const busy = async (url: string) => sumOf((await scrape(url)) ?? [], 'hal9_parallel_tasks_active') > 0;

/** After the first success (half-open), the rest of success_threshold closes the peer's breaker. */
async function closeBreaker(sc: Scenario, label: string, upstream: string) {
  for (let i = 0; i < BREAKER.success_threshold && (await sc.observe(label))[upstream] !== 'closed'; i++)
    expect((await sc.send(label, { content: `closing ${i}` })).outcome).toBe('completed');
  expect((await sc.observe(label))[upstream]).toBe('closed');
}

/** Opened by the fault, closed through half-open by the recovery (trials may re-open it in between). */
const expectOpenedAndClosed = (states: readonly string[]) => {
  expect(states[0]).toBe('closed');
  expect(['open', 'half-open']).toContain(states[1]);
  expect(states.slice(-2)).toEqual(['half-open', 'closed']);
};

/**
 * An entry process whose `impl` neuron lives on a peer process (answering after `answerMs`), the
 * peer's breaker watched; `peerDoc` restarts the peer.
 */
async function entryForwardingToPeer(answerMs: number) {
  const peerDoc = {
    neurons: [neuron('impl', 'L2')],
    performance: { cache_layers: [] },
    claude: { mock_responses: { L2: [mockAnswer('default', 'RESULT: implemented', answerMs)] } },
  };
  const peer = await spawn(peerDoc);
  const entry = await spawn({
    neurons: [neuron('design', 'L3', ['impl']), neuron('impl', 'L2', [], { endpoint: peer.url })],
    performance: { cache_layers: [], circuit_breaker: BREAKER },
    claude: { mock_responses: { L3: [mockAnswer('default', 'FORWARD_TO: impl\nCONTENT: designed')] } },
  });
  const sc = new Scenario([{ label: 'entry', url: entry.url }]);
  sc.watchBreakers();
  return { peer, entry, peerDoc, sc };
}

const job = (i: number) => ({ content: `job ${i}` });
const probe = (i: number) => ({ content: `probe ${i}` });

describe('fault matrix: cluster mode', () => {
  it(
    'a peer SIGKILLed mid-batch fails its branches with PEER_ERROR, then the peer breaker opens; it recovers when the peer is back',
    SLOW,
    async () => {
      const { peer, peerDoc, sc } = await entryForwardingToPeer(300);
      const burst = sc.burst('entry', 100, job);
      await waitUntil('the peer works on forwarded batches', () => busy(peer.url));
      peer.child.kill('SIGKILL');
      await peer.exited;
      const answers = await burst;
      const t = sc.tally();
      expect(t.completed + t.failed).toBe(100);
      expect(t.codes.PEER_ERROR).toBeGreaterThan(0);
      expect(Object.keys(t.codes).every((c) => c === 'PEER_ERROR' || c === 'BREAKER_OPEN')).toBe(true);
      for (const { answer } of answers.filter((a) => a.outcome === 'failed'))
        expect(answer.body.errors[0].neuron).toBe('impl');

      // The peer stays down: later requests fail (connection refused) until its breaker opens, then fast.
      // (A breaker that turned half-open meanwhile lets one trial fail and opens again.)
      let fast: Awaited<ReturnType<Scenario['send']>> | undefined;
      for (let i = 0; i < 20 && !fast; i++) {
        const x = await sc.send('entry', { content: `after kill ${i}` });
        expect(['PEER_ERROR', 'BREAKER_OPEN']).toContain(x.answer.body.errors[0].code);
        if (x.answer.body.errors[0].code === 'BREAKER_OPEN') fast = x;
      }
      expect(fast?.answer.status).toBe(503);
      expect(fast?.answer.body.errors[0]).toMatchObject({ code: 'BREAKER_OPEN', neuron: 'impl' });
      await expectOpened(sc, 'entry', 'peer:impl');

      // The peer comes back on the same address.
      await spawn(peerDoc, { PORT: portOf(peer.url) });
      const recoveryMs = await sc.recover('entry', probe);
      await closeBreaker(sc, 'entry', 'peer:impl');
      const rec = await sc.finish(
        {
          id: '07-peer-killed',
          fault:
            'cluster mode: the peer runtime hosting the next neuron is SIGKILLed while 100 requests are in flight',
          expected:
            'branches in flight or sent later end as PEER_ERROR (502) for that neuron; the peer breaker opens after the threshold and fails fast (503 + Retry-After); the entry stays healthy; answers again once the peer is back',
          test: TEST,
          recoveryMs,
          notes: `${answers.filter((a) => a.outcome === 'completed').length} of the first 100 completed before the kill; the peer was restarted on its old port for recovery`,
        },
        { alive: ['entry'] },
      );
      expectOpenedAndClosed(rec.breakerStates['peer:impl']!);
    },
  );

  it(
    'a stopped peer (SIGSTOP) fails each branch at its deadline, then counts as timeouts until its breaker opens; it recovers on SIGCONT',
    SLOW,
    async () => {
      const { peer, entry, sc } = await entryForwardingToPeer(20);
      expect((await sc.send('entry', job(0))).outcome).toBe('completed');
      peer.child.kill('SIGSTOP');
      // Each request ends at its own deadline (the peer's kernel takes the batch; nothing answers); a
      // second later its call is the peer's timeout, and after the threshold the breaker fails fast.
      let fast: Awaited<ReturnType<Scenario['send']>> | undefined;
      for (let i = 1; i <= 30 && !fast; i++) {
        const x = await sc.send('entry', job(i), '?timeout_ms=300');
        const code = x.answer.body.errors[0].code;
        expect(['REQUEST_TIMEOUT', 'BREAKER_OPEN']).toContain(code);
        if (code === 'BREAKER_OPEN') fast = x;
      }
      expect(fast?.answer.status).toBe(503);
      expect(fast?.answer.body.errors[0]).toMatchObject({ code: 'BREAKER_OPEN', neuron: 'impl' });
      await expectOpened(sc, 'entry', 'peer:impl');
      const samples = (await scrape(entry.url)) ?? [];
      const calls = (status: string) =>
        sumOf(samples, 'hal9_upstream_requests_total', { upstream: 'peer:impl', status });
      expect(calls('timeout')).toBeGreaterThanOrEqual(BREAKER.failure_threshold);
      expect(calls('cancelled')).toBe(0);

      peer.child.kill('SIGCONT');
      const recoveryMs = await sc.recover('entry', probe);
      await closeBreaker(sc, 'entry', 'peer:impl');
      const t = sc.tally();
      const rec = await sc.finish(
        {
          id: '11-peer-stopped',
          fault:
            'cluster mode: the peer runtime hosting the next neuron is stopped (SIGSTOP): its kernel accepts the batches, nothing answers; requests with ?timeout_ms=300 one after another',
          expected:
            'each branch to it ends with its request at the deadline (504 REQUEST_TIMEOUT); the deadline plus 1 s later its call counts as the peer’s timeout (PEER_TIMEOUT, status="timeout"), and after the threshold the peer breaker opens and fails fast (503 + Retry-After); the entry stays healthy; answers again once the peer continues (SIGCONT)',
          test: TEST,
          recoveryMs,
          notes: `${t.codes.REQUEST_TIMEOUT ?? 0} requests waited their deadline before the breaker opened (calls judged a second after each deadline); recovery is timed from SIGCONT`,
        },
        { alive: ['entry'] },
      );
      expectOpenedAndClosed(rec.breakerStates['peer:impl']!);
    },
  );

  it(
    'SIGKILL of one of three processes: the others stay healthy and keep answering what they can',
    SLOW,
    async () => {
      const c = await spawn({
        neurons: [neuron('impl', 'L2')],
        performance: { cache_layers: [] },
        claude: { mock_responses: { L2: [mockAnswer('default', 'RESULT: implemented', 200)] } },
      });
      const bDoc = {
        neurons: [neuron('design', 'L3', ['impl']), neuron('impl', 'L2', [], { endpoint: c.url })],
        performance: { cache_layers: [], circuit_breaker: BREAKER },
        claude: { mock_responses: { L3: [mockAnswer('default', 'FORWARD_TO: impl\nCONTENT: designed')] } },
      };
      const b = await spawn(bDoc);
      const a = await spawn({
        neurons: [
          neuron('lead', 'L4', ['design', 'notes']),
          neuron('design', 'L3', ['impl'], { endpoint: b.url }),
          neuron('impl', 'L2', [], { endpoint: c.url }),
          neuron('notes', 'L2'),
        ],
        performance: { cache_layers: [], circuit_breaker: BREAKER },
        claude: {
          mock_responses: {
            L4: [mockAnswer('default', 'FORWARD_TO: design, notes\nCONTENT: plan')],
            L2: [mockAnswer('default', 'RESULT: noted')],
          },
        },
      });
      const sc = new Scenario([
        { label: 'a', url: a.url },
        { label: 'c', url: c.url },
      ]);
      sc.watchBreakers();
      const burst = sc.burst('a', 100, job);
      await waitUntil('the last process works on signals that came through the middle one', () =>
        busy(c.url),
      );
      b.child.kill('SIGKILL');
      await b.exited;
      const during = await burst;
      // Later requests while the middle process stays down, and direct requests to the last one.
      const [after, direct] = await Promise.all([
        sc.burst('a', 50, (i) => ({ content: `after ${i}` })),
        sc.burst('c', 20, (i) => ({ content: `direct ${i}` })),
      ]);
      const results = (x: { answer: { body: any } }) =>
        x.answer.body.results.map((r: any) => r.content).sort();
      // Every request to the entry completes with the branch that does not need the dead process.
      for (const x of [...during, ...after]) {
        expect(x.outcome).toBe('completed');
        expect(results(x)).toContain('noted');
      }
      const partial = [...during, ...after].filter((x) => x.answer.body.errors.length > 0);
      expect(partial.length).toBeGreaterThanOrEqual(50);
      for (const x of partial) {
        expect(x.answer.body.errors[0].neuron).toBe('design');
        expect(['PEER_ERROR', 'BREAKER_OPEN']).toContain(x.answer.body.errors[0].code);
      }
      for (const x of direct) expect(results(x)).toEqual(['implemented']);
      expect(sc.tally('c').completed).toBe(20);

      await spawn(bDoc, { PORT: portOf(b.url) });
      const recoveryMs = await sc.recover('a', probe, { done: (x) => x.body.results.length === 2 });
      await closeBreaker(sc, 'a', 'peer:design');
      const rec = await sc.finish(
        {
          id: '08-cluster-kill-one-of-three',
          fault:
            'cluster mode, three processes (lead → design → impl, lead → notes locally): the middle one is SIGKILLed under load',
          expected:
            'the entry and the last process stay healthy; every entry request completes with the local branch (partial: PEER_ERROR / BREAKER_OPEN for design); the last process answers its own requests; full answers once the middle one is back',
          test: TEST,
          recoveryMs,
          notes: `${partial.length} of ${during.length + after.length} entry requests completed partially (the design branch failed); recovery = until an answer has both branches again`,
        },
        { alive: ['a', 'c'] },
      );
      expectOpenedAndClosed(rec.breakerStates['a peer:design']!);
    },
  );
});
