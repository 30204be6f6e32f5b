import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.ts';
import { ApiGatedInformer, type CachingInformer } from './api-gated-informer.ts';
import type { InformerHandler } from './informer.ts';

const logger = pino({ level: 'silent' });
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** An informer the test syncs by hand. */
class FakeInformer implements CachingInformer<KubernetesObject> {
  readonly name = 'fake';
  readonly handlers: InformerHandler<KubernetesObject>[] = [];
  stopped = false;
  #synced = false;
  #resolve!: () => void;
  readonly #sync = new Promise<void>((r) => {
    this.#resolve = r;
  });
  readonly objects: KubernetesObject[];
  constructor(objects: KubernetesObject[]) {
    this.objects = objects;
  }
  on(h: InformerHandler<KubernetesObject>) {
    this.handlers.push(h);
  }
  start() {
    return this.#sync;
  }
  stop() {
    this.stopped = true;
  }
  hasSynced() {
    return this.#synced;
  }
  sync() {
    this.#synced = true;
    this.#resolve();
  }
  get(name: string) {
    return this.objects.find((o) => o.metadata?.name === name);
  }
  list() {
    return this.objects;
  }
  ownedBy(uid: string) {
    return this.objects.filter((o) => o.metadata?.ownerReferences?.some((r) => r.uid === uid));
  }
}

function setup(answers: Array<boolean | Error>) {
  const clock = new FakeClock();
  const created: FakeInformer[] = [];
  const changes: string[] = [];
  let calls = 0;
  const gate = new ApiGatedInformer<KubernetesObject>({
    name: 'ServiceMonitor',
    served: async () => {
      const a = answers[Math.min(calls++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
    create: () => {
      const owner = { apiVersion: 'v1', kind: 'Neuron', name: 'n', uid: 'n-uid' };
      const i = new FakeInformer([{ metadata: { name: 'sm', namespace: 'ns', ownerReferences: [owner] } }]);
      created.push(i);
      return i;
    },
    clock,
    logger,
    recheckMs: 60_000,
    onChange: (state) => changes.push(state),
  });
  let synced = false;
  const started = gate.start().then(() => {
    synced = true;
  });
  return { clock, gate, created, changes, calls: () => calls, synced: () => synced, started };
}

describe('ApiGatedInformer', () => {
  it('reads as an empty, synced cache while the API is absent, and starts no informer', async () => {
    const t = setup([false]);
    await t.started;
    expect(t.gate.apiState()).toBe('absent');
    expect(t.gate.hasSynced()).toBe(true);
    expect(t.gate.list()).toEqual([]);
    expect(t.gate.ownedBy('n-uid')).toEqual([]);
    expect(t.created).toHaveLength(0);
    // One discovery call per recheck, no informer restarts: no hot loop.
    for (let i = 0; i < 10; i++) {
      t.clock.advance(60_000);
      await flush();
    }
    expect(t.calls()).toBe(11);
    expect(t.created).toHaveLength(0);
    expect(t.changes).toEqual([]);
  });

  it('syncs once the informer of a served API has listed, and reads from it', async () => {
    const t = setup([true]);
    await flush();
    expect(t.created).toHaveLength(1);
    expect(t.gate.apiState()).toBe('pending');
    expect(t.synced()).toBe(false);
    t.created[0]!.sync();
    await t.started;
    expect(t.gate.apiState()).toBe('served');
    expect(t.gate.get('sm')?.metadata?.name).toBe('sm');
    expect(t.gate.ownedBy('n-uid').map((o) => o.metadata?.name)).toEqual(['sm']);
    // Still served at the recheck: the same informer keeps running.
    t.clock.advance(60_000);
    await flush();
    expect(t.created).toHaveLength(1);
    expect(t.changes).toEqual([]);
  });

  it('starts the informer when the API appears, stops it when it goes, and says so each time', async () => {
    const t = setup([false, true, false]);
    const handler = { add: () => {} };
    t.gate.on(handler);
    await t.started;
    t.clock.advance(60_000);
    await flush();
    expect(t.gate.apiState()).toBe('pending');
    expect(t.created[0]!.handlers).toEqual([handler]);
    t.created[0]!.sync();
    await flush();
    expect(t.gate.apiState()).toBe('served');
    expect(t.changes).toEqual(['served']);

    t.clock.advance(60_000);
    await flush();
    expect(t.created[0]!.stopped).toBe(true);
    expect(t.gate.apiState()).toBe('absent');
    expect(t.gate.list()).toEqual([]);
    expect(t.changes).toEqual(['served', 'absent']);
  });

  it('keeps its last answer when discovery fails, and asks again with backoff', async () => {
    const t = setup([new Error('ECONNREFUSED'), new Error('ECONNREFUSED'), false]);
    await flush();
    expect(t.synced()).toBe(false);
    expect(t.gate.hasSynced()).toBe(false);
    t.clock.advance(1000);
    await flush();
    expect(t.calls()).toBe(2);
    t.clock.advance(1999);
    await flush();
    expect(t.calls()).toBe(2);
    t.clock.advance(1);
    await t.started;
    expect(t.gate.apiState()).toBe('absent');
  });

  it('stops asking once stopped', async () => {
    const t = setup([true]);
    await flush();
    t.gate.stop();
    expect(t.created[0]!.stopped).toBe(true);
    expect(t.clock.pending()).toBe(0);
  });
});
