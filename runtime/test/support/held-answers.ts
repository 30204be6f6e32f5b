import { apiDoc, type FakeMessagesApi, gate, message, startFakeMessagesApi } from './fake-messages-api.ts';
import { neuron, type Started, startRuntime } from './runtime.ts';

/** A one-neuron api-mode runtime and its fake upstream, whose every answer waits for `hold.open()`. */
export interface HeldAnswers {
  readonly hold: { open(): void };
  readonly fake: FakeMessagesApi;
  readonly rt: Started;
  /** Closes the runtime, then the fake. */
  close(): Promise<void>;
}

/**
 * What is in flight is then what the test says, however slow the machine: no answer delay has to
 * outlast the test's own steps. `performance` goes over `cache_layers: []` (no cached answers).
 */
export async function startWithHeldAnswers(
  performance: Record<string, unknown>,
  neuronId = 'impl-1',
): Promise<HeldAnswers> {
  const hold = gate();
  const fake = await startFakeMessagesApi();
  fake.respond(message('RESULT: ok', {}, { until: hold.promise }));
  const rt = await startRuntime(
    apiDoc(fake, { neurons: [neuron(neuronId, 'L2')], performance: { cache_layers: [], ...performance } }),
    { apiKey: 'test-key' },
  );
  return {
    hold,
    fake,
    rt,
    async close() {
      hold.open();
      await rt.close();
      await fake.close();
    },
  };
}
