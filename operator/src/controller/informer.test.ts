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
  /** While set, every watch fails as soon as it is opened, with what this returns. */
  refuse: (() => unknown) | undefined;
  async watch(_path: string, query: Record<string, unknown>, callback: Callback, done: Done) {
    this.calls.push({ query, callback, done });
    const refuse = this.refuse;
    if (refuse) void Promise.resolve().then(() => done(refuse()));
    return new AbortController();
  }
  last() {
    return this.calls[this.calls.length - 1]!;
  }
  /** The resourceVersion the latest watch started from. */
  from() {
    return this.last().query.resourceVersion;
  }
}

const reset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
/** The apiserver no longer holds the watch's resourceVersion in its history. */
const gone = () => Object.assign(new Error('Gone'), { statusCode: 410 });
const bookmark = (rv: string) => ({ kind: 'Thing', metadata: { resourceVersion: rv } });

function setup(
  log = logger,
  backoff: { initialMs: number; maxMs: number } | null = { initialMs: 1000, maxMs: 30_000 },
  notFound?: string,
) {
  const clock = new FakeClock();
  const watch = new FakeWatch();
  let items: KubernetesObject[] = [obj('a', '1'), obj('b', '2')];
  let listCalls = 0;
  let failList = false;
  let listError: unknown;
  const events: string[] = [];
  const restarts: string[] = [];
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
    // As informer-sources.ts does: the factory's watch tells the informer of every event.
    factory: (list, onWatchEvent) => {
      const observed = {
        watch: (path: string, query: Record<string, unknown>, callback: Callback, done: Done) =>
          watch.watch(
            path,
            query,
            (phase, o) => {
              onWatchEvent(phase);
              callback(phase, o);
            },
            done,
          ),
      };
      return new ListWatch('/api/v1/things', observed as any, list, false);
    },
    onRestart: (reason) => restarts.push(reason),
    ...(notFound ? { notFound } : {}),
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
    restarts,
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

  it('resumes a failed watch from its last resourceVersion after a backoff, without listing again', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    t.watch.last().callback('MODIFIED', obj('a', '11'));
    // The connection is reset (an apiserver behind a load balancer going away): client-node's
    // informer reports the error and stops.
    t.watch.last().done(reset());
    await tick();
    expect(t.restarts).toEqual(['watch failed: socket hang up']);
    const watches = t.watch.calls.length;
    t.clock.advance(999);
    await tick();
    expect(t.watch.calls.length).toBe(watches);
    t.clock.advance(1);
    await tick();
    expect(t.watch.calls.length).toBe(watches + 1);
    expect(t.watch.from()).toBe('11');
    expect(t.listCalls()).toBe(1);
    // What changed meanwhile comes as events, into the cache it kept.
    t.watch.last().callback('DELETED', obj('b', '12'));
    t.watch.last().callback('ADDED', obj('c', '13'));
    expect(t.events).toEqual(['add a', 'add b', 'update a', 'delete b', 'add c']);
    expect(t.informer.list().map((o) => o.metadata?.name)).toEqual(['a', 'c']);
    t.informer.stop();
  });

  it('resumes from the resourceVersion of the last bookmark, which handlers never see', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    // A label-filtered watch: nothing it selects changes, other objects of its kind do.
    t.watch.last().callback('BOOKMARK', bookmark('480'));
    t.watch.last().done(reset());
    await tick();
    t.clock.advance(1000);
    await tick();
    expect(t.watch.from()).toBe('480');
    expect(t.listCalls()).toBe(1);
    expect(t.events).toEqual(['add a', 'add b']);
    t.informer.stop();
  });

  it('keeps a quiet watch that receives only bookmarks', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    const watches = t.watch.calls.length;
    for (let i = 1; i <= 10; i++) {
      t.clock.advance(60_000);
      t.watch.last().callback('BOOKMARK', bookmark(String(100 + i)));
      await tick();
    }
    expect(t.restarts).toEqual([]);
    expect(t.watch.calls.length).toBe(watches);
    expect(t.listCalls()).toBe(1);
    t.informer.stop();
  });

  it('relists after 410 Gone, serves the last cache while the list fails, and reports only changes', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    expect(t.listCalls()).toBe(1);
    // The watch's history is gone: client-node lists at once, which fails (the apiserver is busy).
    t.setFailList(true);
    t.watch.last().done(gone());
    await tick();
    expect(t.listCalls()).toBe(2);
    t.clock.advance(1000);
    await tick();
    expect(t.listCalls()).toBe(3); // rebuilt once, list failed
    expect(t.informer.get('a', 'ns')).toBeDefined(); // reads still served from the last cache
    t.clock.advance(1999);
    await tick();
    expect(t.listCalls()).toBe(3); // second failure waits 2 s
    // Meanwhile a changed, b deleted, c created.
    t.setFailList(false);
    t.setItems([obj('a', '20'), obj('c', '21')]);
    t.clock.advance(1);
    await tick();
    expect(t.listCalls()).toBe(4);
    expect(t.events.slice(2).sort()).toEqual(['add c', 'delete b', 'update a']);
    expect(t.informer.get('b', 'ns')).toBeUndefined();
    expect(t.informer.get('c', 'ns')).toBeDefined();
    t.informer.stop();
  });

  it('relists once the apiserver has refused the resumed watch twice more', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    // A resourceVersion ahead of what this apiserver holds (restored etcd): never 410, always 504.
    const tooLarge = () =>
      new ApiException(504, 'Gateway Timeout', JSON.stringify({ message: 'Too large resource version' }), {});
    t.watch.last().done(tooLarge());
    await tick();
    t.clock.advance(1000);
    await tick();
    expect(t.listCalls()).toBe(1);
    // A bookmark in between: that resume worked, so the count starts again.
    t.watch.last().callback('BOOKMARK', bookmark('30'));
    for (const wait of [2000, 4000]) {
      t.watch.last().done(tooLarge());
      await tick();
      t.clock.advance(wait);
      await tick();
      expect(t.listCalls()).toBe(1);
    }
    t.watch.last().done(tooLarge());
    await tick();
    t.clock.advance(8000);
    await tick();
    expect(t.listCalls()).toBe(2);
    expect(t.events).toEqual(['add a', 'add b']);
    t.informer.stop();
  });

  it("asks an apiserver that answered 429 or 503 again after its Retry-After, not the outage's grown backoff", async () => {
    const t = setup(logger, null);
    await t.informer.start();
    await tick();
    // Down: every resumed watch is refused; they back off 1, 2, 4, 8 s, and no longer (the default ceiling).
    t.watch.refuse = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    t.watch.last().done(reset());
    await tick();
    for (const wait of [1000, 2000, 4000, 8000, 8000]) {
      const before = t.watch.calls.length;
      t.clock.advance(wait - 1);
      await tick();
      expect(t.watch.calls.length).toBe(before);
      t.clock.advance(1);
      await tick();
      expect(t.watch.calls.length).toBe(before + 1);
    }
    expect(t.listCalls()).toBe(1);
    // Back, restarted: its new watch cache starts after our resourceVersion (410), and its storage
    // is still initializing: the list gets 429 with Retry-After 2, then 503 without one.
    t.watch.refuse = gone;
    const initializing = new ApiException(
      429,
      'Unknown API Status Code!',
      JSON.stringify({ kind: 'Status', message: 'storage is (re)initializing', code: 429 }),
      { 'retry-after': '2' },
    );
    t.setListError(initializing);
    t.clock.advance(8000);
    await tick();
    t.watch.refuse = undefined;
    const first429 = t.listCalls();
    expect(first429).toBe(2);
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
    t.clock.advance(1999);
    await tick();
    expect(t.listCalls()).toBe(first429 + 1);
    t.clock.advance(1);
    await tick();
    expect(t.listCalls()).toBe(first429 + 2);
    expect(t.informer.hasSynced()).toBe(true);
    t.informer.stop();
  });

  /** The waits between the watches of `failures` restarts (resumed or relisted), each failing with `fail`. */
  async function gapsBetweenWatches(t: ReturnType<typeof setup>, failures: number, fail: () => unknown) {
    const gaps: number[] = [];
    for (let i = 0; i < failures; i++) {
      const watches = t.watch.calls.length;
      t.watch.last().done(fail());
      await tick();
      let waited = 0;
      while (t.watch.calls.length === watches && waited < 60_000) {
        t.clock.advance(500);
        waited += 500;
        await tick();
      }
      gaps.push(waited);
    }
    return gaps;
  }

  it('backs off a watch that fails right after each start (a role without watch, a proxy cutting streams)', async () => {
    const t = setup(logger, null);
    await t.informer.start();
    await tick();
    const forbidden = () =>
      new ApiException(403, 'Forbidden', JSON.stringify({ kind: 'Status', code: 403 }), {});
    expect(await gapsBetweenWatches(t, 6, forbidden)).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    // Refused by the apiserver: two resumes, then a relist, twice over.
    expect(t.listCalls()).toBe(3);
    t.informer.stop();
  });

  it('backs off watches refused with 429 that carry no Retry-After (priority and fairness shedding)', async () => {
    const t = setup(logger, null);
    await t.informer.start();
    await tick();
    // A failed watch carries the status, not the answer's headers.
    const busy = () => new ApiException(429, 'Too Many Requests', '', {});
    expect(await gapsBetweenWatches(t, 5, busy)).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(t.listCalls()).toBe(1); // busy says nothing about the resourceVersion: resumed each time
    t.informer.stop();
  });

  it('starts the backoff again once the informer went two minutes without a failure', async () => {
    const t = setup(logger, null);
    await t.informer.start();
    await tick();
    /** A healthy watch for `ms`: an event every 30 s, no restart. */
    const healthy = async (ms: number) => {
      const watches = t.watch.calls.length;
      for (let at = 0; at < ms; at += 30_000) {
        t.clock.advance(30_000);
        t.watch.last().callback('MODIFIED', obj('a', String(t.clock.now())));
        await tick();
      }
      expect(t.watch.calls.length).toBe(watches);
    };
    expect(await gapsBetweenWatches(t, 3, reset)).toEqual([1000, 2000, 4000]);
    await healthy(60_000);
    expect(await gapsBetweenWatches(t, 1, reset)).toEqual([8000]); // a minute is not long enough
    await healthy(120_000);
    expect(await gapsBetweenWatches(t, 2, reset)).toEqual([1000, 2000]);
    expect(t.listCalls()).toBe(1);
    t.informer.stop();
  });

  it("logs why it restarts in one line: the apiserver's status and message, not client-node's whole answer", async () => {
    const lines: { reason?: string; msg?: string; relist?: boolean }[] = [];
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
    expect(lines.map((l) => [l.msg, l.reason, l.relist])).toEqual([
      ['Restarting informer', 'watch failed: HTTP 429: storage is (re)initializing', false],
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

  it('says what a 404 means when its source knows (a CRD not installed), and only for a 404', async () => {
    const t = setup(logger, { initialMs: 1000, maxMs: 30_000 }, 'the CRD things.example is not installed');
    const notFound = {
      kind: 'Status',
      status: 'Failure',
      message: 'the server could not find the requested resource',
      reason: 'NotFound',
      code: 404,
    };
    t.setListError(new ApiException(404, 'Unknown API Status Code!', JSON.stringify(notFound), {}));
    void t.informer.start().catch(() => {});
    await tick();
    expect(t.restarts).toEqual([
      'watch failed: HTTP 404: the server could not find the requested resource (the CRD things.example is not installed)',
    ]);
    t.setListError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }));
    t.clock.advance(1000);
    await tick();
    expect(t.restarts[1]).toBe('watch failed: connect ECONNREFUSED 127.0.0.1:6443');
    t.informer.stop();
  });

  /** The history expired (410) and client-node's list failed: the informer is rebuilt and lists after 1 s. */
  async function rebuild(t: ReturnType<typeof setup>) {
    t.setFailList(true);
    t.watch.last().done(gone());
    await tick();
    t.setFailList(false);
    t.clock.advance(1000);
    await tick();
  }

  it('tells handlers of a relisted object only once the cache they read from holds it', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    const readable: boolean[] = [];
    t.informer.on({ add: (o) => readable.push(t.informer.get(o.metadata?.name ?? '', 'ns') !== undefined) });
    t.setItems([obj('a', '1'), obj('b', '2'), obj('new', '30')]);
    await rebuild(t);
    expect(t.listCalls()).toBe(3);
    expect(readable).toEqual([true]);
    t.informer.stop();
  });

  it('does not re-send objects whose resourceVersion is unchanged after a relist', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    await rebuild(t);
    expect(t.listCalls()).toBe(3);
    expect(t.events).toEqual(['add a', 'add b']);
    t.informer.stop();
  });

  it('finds objects by owner uid, following the watch and relists', async () => {
    const t = setup();
    const owned = (name: string, rv: string, ...uids: string[]): KubernetesObject => ({
      metadata: {
        name,
        namespace: 'ns',
        resourceVersion: rv,
        ownerReferences: uids.map((uid) => ({ apiVersion: 'v1', kind: 'Neuron', name: uid, uid })),
      },
    });
    const names = (uid: string) =>
      t.informer
        .ownedBy(uid)
        .map((o) => o.metadata?.name)
        .sort();
    t.setItems([owned('a', '1', 'n1'), owned('b', '2', 'n1', 'n2'), obj('c', '3')]);
    await t.informer.start();
    await tick();
    expect([names('n1'), names('n2')]).toEqual([['a', 'b'], ['b']]);
    // b handed to n3 alone, a deleted, c given to n1.
    t.watch.last().callback('MODIFIED', owned('b', '11', 'n3'));
    t.watch.last().callback('DELETED', owned('a', '12', 'n1'));
    t.watch.last().callback('MODIFIED', owned('c', '13', 'n1'));
    expect([names('n1'), names('n2'), names('n3')]).toEqual([['c'], [], ['b']]);
    // Relisted: meanwhile c lost its owner and d was made for n2; b is unchanged (not sent again).
    t.setItems([owned('b', '11', 'n3'), obj('c', '20'), owned('d', '21', 'n2')]);
    await rebuild(t);
    expect([names('n1'), names('n2'), names('n3')]).toEqual([[], ['d'], ['b']]);
    t.informer.stop();
  });

  it('rebuilds a watch that gets only in-stream errors: they are not activity', async () => {
    const t = setup();
    await t.informer.start();
    await tick();
    const lists = t.listCalls();
    // A status other than 410 in the stream, every 30 s: client-node reconnects from the same
    // resourceVersion on its own, and the informer would stay pinned to it.
    for (let i = 0; i < 7; i++) {
      t.clock.advance(30_000);
      t.watch.last().callback('ERROR', { kind: 'Status', code: 500, message: 'etcd timeout' });
      await tick();
    }
    t.clock.advance(1000);
    await tick();
    expect(t.listCalls()).toBe(lists + 1);
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
