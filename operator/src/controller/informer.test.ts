import {
  ApiException,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.ts';
import { ResilientInformer } from './informer.ts';

const logger = pino({ level: 'silent' });
const tick = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function obj(name: string, rv: string): KubernetesObject {
  return { metadata: { name, namespace: 'ns', resourceVersion: rv } };
}

type Done = (err: unknown) => void;
type Callback = (phase: string, obj: unknown) => void;

/** Stands in for client-node's Watch: each watch() call is recorded and driven by the test. */
class FakeWatch {
  calls: { query: Record<string, unknown>; callback: Callback; done: Done }[] = [];
  async watch(_path: string, query: Record<string, unknown>, callback: Callback, done: Done) {
    this.calls.push({ query, callback, done });
    return new AbortController();
  }
  last() {
    return this.calls[this.calls.length - 1]!;
  }
}

function setup(
  log = logger,
  backoff: { initialMs: number; maxMs: number } | null = { initialMs: 1000, maxMs: 30_000 },
) {
  const clock = new FakeClock();
  const watch = new FakeWatch();
  let items: KubernetesObject[] = [obj('a', '1'), obj('b', '2')];
  let listCalls = 0;
  let failList = false;
  let listError: unknown;
  const events: string[] = [];
  const informer = new ResilientInformer<KubernetesObject>({
    name: 'test',
    clock,
    logger: log,
    ...(backoff ? { backoff } : {}),
    staleAfterMs: 120_000,
    list: async (): Promise<KubernetesListObject<KubernetesObject>> => {
      listCalls++;
      if (listError !== undefined) throw listError;
      if (failList) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return { metadata: { resourceVersion: '10' }, items };
    },
    factory: (list) => new ListWatch('/api/v1/things', watch as any, list, false),
  });
  informer.on({
    add: (o) => events.push(`add ${o.metadata?.name}`),
    update: (o) => events.push(`update ${o.metadata?.name}`),
    delete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  return {
    clock,
    watch,
    informer,
    events,
    setItems: (i: KubernetesObject[]) => {
      items = i;
    },
    setFailList: (f: boolean) => {
      failList = f;
    },
    /** What every list throws from now on (undefined: back to setFailList's behaviour). */
    setListError: (e: unknown) => {
      listError = e;
    },
    listCalls: () => listCalls,
  };
}

describe('ResilientInformer', () => {
  it('lists, reports adds, then follows watch events', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    expect(t.informer.hasSynced()).toBe(true);
    expect(t.events).toEqual(['add a', 'add b']);
    t.watch.last().callback('MODIFIED', obj('a', '11'));
    t.watch.last().callback('DELETED', obj('b', '12'));
    expect(t.events.slice(2)).toEqual(['update a', 'delete b']);
    expect(t.informer.get('a', 'ns')?.metadata?.resourceVersion).toBe('11');
    t.informer.stop();
  });

  it('restarts a watch that failed (client-node gives up) with backoff, relists and reports only changes', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    expect(t.listCalls()).toBe(1);
    // The apiserver went away: the watch ends with an error and client-node's informer stops.
    t.setFailList(true);
    t.watch.last().done(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await tick();
    t.clock.advance(1000);
    await tick();
    expect(t.listCalls()).toBe(2); // restarted once, list failed
    expect(t.informer.get('a', 'ns')).toBeDefined(); // reads still served from the last cache
    t.clock.advance(1999);
    await tick();
    expect(t.listCalls()).toBe(2); // second failure waits 2 s
    // Meanwhile a changed, b deleted, c created.
    t.setFailList(false);
    t.setItems([obj('a', '20'), obj('c', '21')]);
    t.clock.advance(1);
    await tick();
    expect(t.listCalls()).toBe(3);
    expect(t.events.slice(2).sort()).toEqual(['add c', 'delete b', 'update a']);
    expect(t.informer.get('b', 'ns')).toBeUndefined();
    expect(t.informer.get('c', 'ns')).toBeDefined();
    t.informer.stop();
  });

  it("asks an apiserver that answered 429 or 503 again after its Retry-After, not the outage's grown backoff", async () => {
    const t = setup(logger, null);
    await t.informer.start();
    await tick();
    // Down: refused connections back off 1, 2, 4, 8 s, and no longer (the default ceiling).
    t.setFailList(true);
    t.watch.last().done(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await tick();
    for (const wait of [1000, 2000, 4000, 8000, 8000]) {
      const before = t.listCalls();
      t.clock.advance(wait - 1);
      await tick();
      expect(t.listCalls()).toBe(before);
      t.clock.advance(1);
      await tick();
      expect(t.listCalls()).toBe(before + 1);
    }
    // Back, with its storage still initializing: 429 with Retry-After 2, then 503 without one.
    const initializing = new ApiException(
      429,
      'Unknown API Status Code!',
      JSON.stringify({ kind: 'Status', message: 'storage is (re)initializing', code: 429 }),
      { 'retry-after': '2' },
    );
    t.setListError(initializing);
    t.clock.advance(8000);
    await tick();
    const first429 = t.listCalls();
    t.setListError(new ApiException(503, 'Service Unavailable', '', {}));
    t.clock.advance(1999);
    await tick();
    expect(t.listCalls()).toBe(first429);
    t.clock.advance(1);
    await tick();
    expect(t.listCalls()).toBe(first429 + 1);
    // The 503 came without Retry-After: the busy backoff's second step (2 s), not the 8 s the outage
    // had grown to.
    t.setListError(undefined);
    t.setFailList(false);
    t.clock.advance(1999);
    await tick();
    expect(t.listCalls()).toBe(first429 + 1);
    t.clock.advance(1);
    await tick();
    expect(t.listCalls()).toBe(first429 + 2);
    expect(t.informer.hasSynced()).toBe(true);
    t.informer.stop();
  });

  /** The waits between the lists of `failures` restarts, each caused by `fail` once the list is done. */
  async function gapsBetweenLists(t: ReturnType<typeof setup>, failures: number, fail: () => unknown) {
    const gaps: number[] = [];
    for (let i = 0; i < failures; i++) {
      const lists = t.listCalls();
      t.watch.last().done(fail());
      await tick();
      let waited = 0;
      while (t.listCalls() === lists && waited < 60_000) {
        t.clock.advance(500);
        waited += 500;
        await tick();
      }
      gaps.push(waited);
    }
    return gaps;
  }

  it('backs off a watch that fails right after each good list (a role without watch, a proxy cutting streams)', async () => {
    const t = setup(logger, null);
    await t.informer.start();
    await tick();
    const forbidden = () =>
      new ApiException(403, 'Forbidden', JSON.stringify({ kind: 'Status', code: 403 }), {});
    expect(await gapsBetweenLists(t, 6, forbidden)).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    t.informer.stop();
  });

  it('backs off watches refused with 429 that carry no Retry-After (priority and fairness shedding)', async () => {
    const t = setup(logger, null);
    await t.informer.start();
    await tick();
    // A failed watch carries the status, not the answer's headers.
    const busy = () => new ApiException(429, 'Too Many Requests', '', {});
    expect(await gapsBetweenLists(t, 5, busy)).toEqual([1000, 2000, 4000, 8000, 8000]);
    t.informer.stop();
  });

  it('starts the backoff again once the informer went two minutes without a failure', async () => {
    const t = setup(logger, null);
    await t.informer.start();
    await tick();
    const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    /** A healthy watch for `ms`: an event every 30 s, no restart. */
    const healthy = async (ms: number) => {
      const lists = t.listCalls();
      for (let at = 0; at < ms; at += 30_000) {
        t.clock.advance(30_000);
        t.watch.last().callback('MODIFIED', obj('a', String(t.clock.now())));
        await tick();
      }
      expect(t.listCalls()).toBe(lists);
    };
    expect(await gapsBetweenLists(t, 3, reset)).toEqual([1000, 2000, 4000]);
    await healthy(60_000);
    expect(await gapsBetweenLists(t, 1, reset)).toEqual([8000]); // a minute is not long enough
    await healthy(120_000);
    expect(await gapsBetweenLists(t, 2, reset)).toEqual([1000, 2000]);
    t.informer.stop();
  });

  it("logs why it restarts in one line: the apiserver's status and message, not client-node's whole answer", async () => {
    const lines: { reason?: string; msg?: string }[] = [];
    const t = setup(pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l)) }));
    await t.informer.start();
    await tick();
    const status = {
      kind: 'Status',
      status: 'Failure',
      message: 'storage is (re)initializing',
      reason: 'TooManyRequests',
      code: 429,
    };
    t.watch
      .last()
      .done(
        new ApiException(429, 'Unknown API Status Code!', JSON.stringify(status), { 'retry-after': '1' }),
      );
    await tick();
    expect(lines.map((l) => [l.msg, l.reason])).toEqual([
      ['Restarting informer', 'watch failed: HTTP 429: storage is (re)initializing'],
    ]);
    t.clock.advance(1000);
    await tick();
    t.watch
      .last()
      .done(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }));
    await tick();
    expect(lines[1]?.reason).toBe('watch failed: connect ECONNREFUSED 127.0.0.1:6443');
    t.informer.stop();
  });

  it('tells handlers of a relisted object only once the cache they read from holds it', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    const readable: boolean[] = [];
    t.informer.on({ add: (o) => readable.push(t.informer.get(o.metadata?.name ?? '', 'ns') !== undefined) });
    t.setItems([obj('a', '1'), obj('b', '2'), obj('new', '30')]);
    t.watch.last().done(Object.assign(new Error('boom'), { statusCode: 500 }));
    await tick();
    t.clock.advance(1000);
    await tick();
    expect(readable).toEqual([true]);
    t.informer.stop();
  });

  it('does not re-send objects whose resourceVersion is unchanged after a relist', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    t.watch.last().done(Object.assign(new Error('boom'), { statusCode: 500 }));
    await tick();
    t.clock.advance(1000);
    await tick();
    expect(t.events).toEqual(['add a', 'add b']);
    t.informer.stop();
  });

  it('rebuilds a watch that went silent', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    const lists = t.listCalls();
    t.clock.advance(200_000);
    await tick();
    t.clock.advance(1000);
    await tick();
    expect(t.listCalls()).toBe(lists + 1);
    t.informer.stop();
  });
});
