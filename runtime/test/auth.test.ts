import { afterEach, describe, expect, it } from 'vitest';
import { PEER_TOKEN_GRACE_MS } from '../src/runtime.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { neuron, type Started, startRuntime } from './support/runtime.ts';

// Credentials: named client keys for the signal API, the admin token (else the peer token) for the
// admin API, and the cluster's peer token (else the client keys) for the internal route. 401s carry
// WWW-Authenticate.

const KEYS = new Map([
  ['team-a', 'key-aaaaaaaaaaaaaaaaaaaa'],
  ['team-b', 'key-bbbbbbbbbbbbbbbbbbbb'],
]);
const started: Started[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

describe('signal API keys', () => {
  it('refuses a missing or wrong key with 401 and WWW-Authenticate, accepts each named key and counts it by name', async () => {
    const rt = await startRuntime({}, { apiKeys: KEYS });
    started.push(rt);
    const anon = await rt.post('/v1/signals', { content: 'x' });
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe('UNAUTHORIZED');
    expect(anon.headers.get('www-authenticate')).toBe('Bearer realm="hal9"');
    expect((await rt.post('/v1/signals', { content: 'x' }, bearer('key-wrong-wrong-wrong'))).status).toBe(
      401,
    );
    expect((await rt.post('/v1/signals', { content: 'x' }, bearer('key-aaaaaaaaaaaaaaaaaaaa'))).status).toBe(
      200,
    );
    expect((await rt.post('/v1/signals', { content: 'y' }, bearer('key-bbbbbbbbbbbbbbbbbbbb'))).status).toBe(
      200,
    );
    expect(await rt.metric('hal9_client_requests_total', { client: 'team-a' })).toBe(1);
    expect(await rt.metric('hal9_client_requests_total', { client: 'team-b' })).toBe(1);
    // An invalid body from an anonymous caller is a 401, not a schema lesson.
    expect((await rt.post('/v1/signals', { nope: 1 })).status).toBe(401);
    // Health and metrics stay open for probes and Prometheus.
    expect((await rt.get('/healthz')).status).toBe(200);
    const metrics = await rt.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).not.toContain('key-aaaa');
  });

  it("one client's flood of ?wait=false requests evicts its own kept results, not another client's unread one", async () => {
    const rt = await startRuntime({ server: { results_max_entries: 5 } }, { apiKeys: KEYS });
    started.push(rt);
    const accepted = await rt.post(
      '/v1/signals?wait=false',
      { content: 'x' },
      bearer('key-aaaaaaaaaaaaaaaaaaaa'),
    );
    expect(accepted.status).toBe(202);
    const flood: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await rt.post(
        '/v1/signals?wait=false',
        { content: `f${i}` },
        bearer('key-bbbbbbbbbbbbbbbbbbbb'),
      );
      expect(r.status).toBe(202);
      flood.push(r.body.id);
    }
    const b = bearer('key-bbbbbbbbbbbbbbbbbbbb');
    // The store is full: the flood's first results are gone, by the limit that let them go...
    await expect
      .poll(async () => (await rt.get(`/v1/signals/${flood[0]}`, b)).body.error?.field)
      .toBe('server.results_max_entries');
    await expect
      .poll(async () => (await rt.get(`/v1/signals/${flood.at(-1)}`, b)).body.status)
      .toBe('completed');
    // ...and team-a's unread result is still there.
    const a = await rt.get(`/v1/signals/${accepted.body.id}`, bearer('key-aaaaaaaaaaaaaaaaaaaa'));
    expect([a.status, a.body.status]).toEqual([200, 'completed']);
    // To another client, an id let go is unknown, as one never sent: not even its existence is told.
    const other = await rt.get(`/v1/signals/${flood[0]}`, bearer('key-aaaaaaaaaaaaaaaaaaaa'));
    expect([other.status, other.body.error?.field]).toEqual([404, 'id']);
  });

  it('client keys never open the admin API: closed without an admin or peer token, the token only with one', async () => {
    const rt = await startRuntime({}, { apiKeys: KEYS });
    started.push(rt);
    const before = rt.runtime.engine.tuning().max_concurrent_signals;
    for (const headers of [undefined, bearer('key-aaaaaaaaaaaaaaaaaaaa')]) {
      const put = await rt.put('/v1/admin/performance', { max_concurrent_signals: 9 }, headers);
      expect(put.status).toBe(403);
      expect(put.body.error).toMatchObject({ code: 'FORBIDDEN', field: 'server.auth_token' });
      expect(put.body.error.message).toContain('client keys do not open it');
      // It names every way to open it: the token, its file, and the peer token it falls back to.
      for (const way of ['server.auth_token_file', 'HAL9_AUTH_TOKEN_FILE', 'server.peer_token_file'])
        expect(put.body.error.message).toContain(way);
      expect((await rt.get('/v1/admin/load', headers)).status).toBe(403);
    }
    expect(rt.runtime.engine.tuning().max_concurrent_signals).toBe(before);
    const withAdmin = await startRuntime({}, { apiKeys: KEYS, authToken: 'admin-secret' });
    started.push(withAdmin);
    expect(
      (
        await withAdmin.put(
          '/v1/admin/performance',
          { max_concurrent_signals: 9 },
          bearer('key-aaaaaaaaaaaaaaaaaaaa'),
        )
      ).status,
    ).toBe(401);
    expect(
      (await withAdmin.put('/v1/admin/performance', { max_concurrent_signals: 9 }, bearer('admin-secret')))
        .status,
    ).toBe(200);
    const withPeer = await startRuntime({}, { apiKeys: KEYS, peerToken: 'peer-secret-0123456789' });
    started.push(withPeer);
    const peerPut = (key: string) =>
      withPeer.put('/v1/admin/performance', { max_concurrent_signals: 9 }, bearer(key));
    expect((await peerPut('key-aaaaaaaaaaaaaaaaaaaa')).status).toBe(401);
    expect((await peerPut('peer-secret-0123456789')).status).toBe(200);
  });

  it('without an admin token or client keys the admin API takes the peer token: never the one open door', async () => {
    const rt = await startRuntime({}, { peerToken: 'peer-secret-0123456789' });
    started.push(rt);
    const put = (headers?: Record<string, string>) =>
      rt.put('/v1/admin/performance', { max_queue_depth: 0, max_concurrent_signals: 1 }, headers);
    expect((await put()).status).toBe(401);
    expect(rt.runtime.engine.tuning().max_concurrent_signals).not.toBe(1);
    expect((await put(bearer('peer-secret-0123456789'))).status).toBe(200);
    expect(rt.runtime.engine.tuning().max_concurrent_signals).toBe(1);
  });

  it('admin limits equal the config file’s', async () => {
    const rt = await startRuntime();
    started.push(rt);
    const over = await rt.put('/v1/admin/performance', { max_concurrent_signals: 10_001 });
    expect(over.status).toBe(400);
    expect(over.body.error.field).toBe('max_concurrent_signals');
    expect((await rt.put('/v1/admin/performance', { max_concurrent_signals: 10_000 })).status).toBe(200);
  });
});

describe('peer route', () => {
  const signal = (over: Record<string, unknown> = {}) => ({
    id: 's1',
    requestId: 'r1',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    parentId: null,
    from: 'lead',
    to: 'worker',
    hop: 1,
    content: 'work',
    path: ['lead'],
    metadata: {},
    ...over,
  });

  it('needs the cluster peer token when one is configured, and the sending runtime presents it', async () => {
    const worker = await startRuntime({ neurons: [neuron('worker', 'L2')] }, { peerToken: 'peer-secret' });
    started.push(worker);
    const body = { deadlineMs: 1000, signals: [signal()] };
    expect((await worker.post('/v1/neurons/worker/signals', body)).status).toBe(401);
    const lead = await startRuntime(
      { neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: worker.url })] },
      { peerToken: 'peer-secret' },
    );
    started.push(lead);
    const res = await lead.post('/v1/signals', { content: 'go' });
    expect(res.status).toBe(200);
    expect(res.body.results[0].neuron).toBe('worker');
  });

  it('refuses a batch in which two signals share an id, naming the second, and runs none of it', async () => {
    const worker = await startRuntime({ neurons: [neuron('worker', 'L2')] });
    started.push(worker);
    const batch = (ids: string[]) => ({ deadlineMs: 1000, signals: ids.map((id) => signal({ id })) });
    const arrived = () => worker.metric('hal9_signals_arrived_total', { neuron: 'worker' });
    const twice = await worker.post('/v1/neurons/worker/signals', batch(['s1', 's2', 's1']));
    expect(twice.status).toBe(400);
    expect(twice.body.error).toEqual({
      code: 'INVALID_REQUEST',
      field: 'signals[2].id',
      message: 'signals[2].id is signals[0].id too ("s1"): each signal of a batch has an id of its own',
    });
    expect(await arrived()).toBe(0);
    expect((await worker.post('/v1/neurons/worker/signals', batch(['s1', 's2']))).status).toBe(200);
    expect(await arrived()).toBe(2);
  });

  it('takes the previous peer token for PEER_TOKEN_GRACE_MS after a rotation, then only the new one', async () => {
    // Pods take a rotated Secret up at different times: a peer still sending the old token is served
    // through the overlap, and refused once it is over. The clock is driven by hand (no waiting).
    const clock = new ManualClock();
    const worker = await startRuntime(
      { neurons: [neuron('worker', 'L2')] },
      { peerToken: 'token-old', clock },
    );
    started.push(worker);
    const send = async (token: string) =>
      (
        await worker.post(
          '/v1/neurons/worker/signals',
          { deadlineMs: 1000, signals: [signal()] },
          bearer(token),
        )
      ).status;
    expect(await send('token-new')).toBe(401);
    expect(worker.runtime.rotatePeerToken('token-new')).toBe(true);
    expect(await send('token-new')).toBe(200);
    clock.advance(PEER_TOKEN_GRACE_MS - 1);
    expect(await send('token-old')).toBe(200);
    // A second rotation inside the overlap restarts it for the token just replaced, and drops the first.
    expect(worker.runtime.rotatePeerToken('token-third')).toBe(true);
    expect(await send('token-old')).toBe(401);
    clock.advance(PEER_TOKEN_GRACE_MS - 1);
    expect(await send('token-new')).toBe(200);
    clock.advance(1);
    expect(await send('token-new')).toBe(401);
    expect(await send('token-third')).toBe(200);
  });

  it('a sender that took a rotated token up first still reaches a peer that has not: it falls back to the previous one', async () => {
    // The kubelet refreshes a Secret volume on each pod in its own time: for a while the sender knows
    // the new token and a receiver only the old one. The receiver's 401 is answered once with the
    // previous token, inside the same grace, so no branch fails with PEER_ERROR during a rotation.
    const clock = new ManualClock();
    const worker = await startRuntime({ neurons: [neuron('worker', 'L2')] }, { peerToken: 'token-old' });
    started.push(worker);
    const lead = await startRuntime(
      { neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: worker.url })] },
      { peerToken: 'token-old', clock },
    );
    started.push(lead);
    expect(lead.runtime.rotatePeerToken('token-new')).toBe(true);
    const res = await lead.post('/v1/signals', { content: 'go' });
    expect(res.status).toBe(200);
    expect(res.body.results[0].neuron).toBe('worker');
    // Once the grace is over the previous token is no longer sent: the 401 stands, naming the peer.
    clock.advance(PEER_TOKEN_GRACE_MS);
    const late = await lead.post('/v1/signals', { content: 'go again' });
    expect(late.body.errors[0].code).toBe('PEER_ERROR');
    expect(late.body.errors[0].message).toContain('worker answered 401');
  });

  it('without a peer token takes the client keys: the signal API’s keys are not bypassed through it', async () => {
    const rt = await startRuntime({ neurons: [neuron('worker', 'L2')] }, { apiKeys: KEYS });
    started.push(rt);
    const body = { deadlineMs: 1000, signals: [signal({ hop: 0, path: [] })] };
    const anon = await rt.post('/v1/neurons/worker/signals', body);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toContain('Bearer');
    const keyed = await rt.post('/v1/neurons/worker/signals', body, bearer('key-aaaaaaaaaaaaaaaaaaaa'));
    expect(keyed.status).toBe(200);
    expect(keyed.body.outcomes[0].results[0].neuron).toBe('worker');
  });

  it('re-checks a peer’s hop, path and deadline against its own limits', async () => {
    const worker = await startRuntime({
      neurons: [neuron('worker', 'L2')],
      performance: { hop_limit: 4, request_timeout_ms: 2000 },
    });
    started.push(worker);
    const send = (signals: unknown[], deadlineMs = 1000) =>
      worker.post('/v1/neurons/worker/signals', { deadlineMs, signals });
    const hop = await send([signal({ hop: 99 })]);
    expect(hop.status).toBe(200);
    expect(hop.body.outcomes[0].errors[0].code).toBe('HOP_LIMIT_EXCEEDED');
    const cycle = await send([signal({ path: ['lead', 'worker'] })]);
    expect(cycle.body.outcomes[0].errors[0].code).toBe('CYCLE_DETECTED');
    const huge = await send([signal()], 99_999_999_999);
    expect(huge.status).toBe(400);
    expect(huge.body.error.field).toBe('deadlineMs');
    const ok = await send([signal()]);
    expect(ok.body.outcomes[0].results).toHaveLength(1);
  });
});
