import { afterEach } from 'vitest';
import { apiDoc, type FakeMessagesApi, startFakeMessagesApi } from './fake-messages-api.ts';
import { neuron, type Started, type StartOptions, startRuntime } from './runtime.ts';

// The runtimes and fake Messages APIs a test file starts, closed after each of its tests (runtimes
// first, so none is left calling a closed upstream).

export interface ApiRuntimes {
  /** Runtimes closed after the test: push the ones a test starts itself. */
  readonly started: Started[];
  /** Starts a fake Messages API, closed after the test. */
  fake(): Promise<FakeMessagesApi>;
  /**
   * A fake Messages API and a runtime in `api` mode on it, from `apiDoc` options (one neuron `impl-1`
   * at L2 unless `o.neurons`) and start options (API key `k` unless given).
   */
  api(o?: Parameters<typeof apiDoc>[1], opts?: StartOptions): Promise<{ fake: FakeMessagesApi; rt: Started }>;
  /**
   * A mock-mode lead (L3) that forwards every signal to `worker`, reached as its peer `worker`;
   * `performance`: its config's section.
   */
  leadOf(worker: Started, performance?: Record<string, unknown>): Promise<Started>;
}

/** Registers the `afterEach` that closes what the file's tests start; call once at a file's top level. */
export function apiRuntimes(): ApiRuntimes {
  const started: Started[] = [];
  const fakes: FakeMessagesApi[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) await s.close();
    for (const f of fakes.splice(0)) await f.close();
  });
  const fake = async () => {
    const f = await startFakeMessagesApi();
    fakes.push(f);
    return f;
  };
  return {
    started,
    fake,
    async api(o = {}, opts = { apiKey: 'k' }) {
      const f = await fake();
      const rt = await startRuntime(
        apiDoc(f, { ...o, neurons: o.neurons ?? [neuron('impl-1', 'L2')] }),
        opts,
      );
      started.push(rt);
      return { fake: f, rt };
    },
    async leadOf(worker, performance) {
      const lead = await startRuntime({
        ...(performance ? { performance } : {}),
        neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: worker.url })],
        claude: {
          mock_responses: { L3: [{ trigger: 'default', response: 'FORWARD_TO: worker', delay_ms: 0 }] },
        },
      });
      started.push(lead);
      return lead;
    },
  };
}
