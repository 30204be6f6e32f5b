import type { MockBackend as MockBackendT } from '../../runtime/src/claude/mock.ts';
import type { parseConfig as parseConfigT } from '../../runtime/src/config/parse.ts';
import type { parseAnswer as parseAnswerT } from '../../runtime/src/pipeline/protocol.ts';
import type { createRuntime as createRuntimeT } from '../../runtime/src/runtime.ts';
import { importRuntime } from './runtime-src.ts';
import { type Summary, sample, summarize } from './stats.ts';

// The guide's four cases, in process (no sockets): the engine's own cost per request, at the guide's
// defaults (no config: L4 → L3 → L2 mock, zero delay, cache on L2). Reference: the bare work a request
// needs (the mock answers parsed, no pipeline), same run. A target is met when p50 AND p99 are within it.

export interface InProcessRow {
  readonly name: string;
  readonly guideMs: number;
  readonly targetMs: number;
  readonly hal9: Summary;
  readonly reference: Summary;
}

export const met = (r: InProcessRow): boolean => r.hal9.p50 <= r.targetMs && r.hal9.p99 <= r.targetMs;

export async function inProcess(n = 3000): Promise<InProcessRow[]> {
  const { createRuntime } = await importRuntime<{ createRuntime: typeof createRuntimeT }>('runtime.ts');
  const { parseConfig } = await importRuntime<{ parseConfig: typeof parseConfigT }>('config/parse.ts');
  const { MockBackend } = await importRuntime<{ MockBackend: typeof MockBackendT }>('claude/mock.ts');
  const { parseAnswer } = await importRuntime<{ parseAnswer: typeof parseAnswerT }>('pipeline/protocol.ts');
  const rt = createRuntime(parseConfig(undefined, {}));
  await rt.app.ready();
  const mock = new MockBackend({});
  const neurons = rt.config.neurons;
  // The bare work: each layer's mock answer, parsed, its forward carried to the next layer.
  const bare = async (content: string, layers = neurons.length) => {
    let c = content;
    for (const nc of neurons.slice(0, layers)) {
      const p = parseAnswer((await mock.complete(nc, c)).text);
      c = p.forwards[0]?.content ?? p.results[0] ?? c;
    }
    return c;
  };
  let i = 0;
  const submit = (content: string) => rt.engine.submit({ content }).done;
  const single = summarize(await sample(n, 500, () => submit(`signal ${i++}`)));
  const singleRef = summarize(await sample(n, 500, () => bare(`signal ${i++}`)));
  const ten = summarize(
    await sample(n / 5, 100, () => Promise.all(Array.from({ length: 10 }, () => submit(`p ${i++}`)))),
  );
  const tenRef = summarize(
    await sample(n / 5, 100, () => Promise.all(Array.from({ length: 10 }, () => bare(`p ${i++}`)))),
  );
  // Cached: the same signal again, so L4 and L3 run and L2 answers from the cache (the default
  // topology's cached flow). Reference: the two uncached layers' bare work.
  await submit('hot');
  const cached = summarize(await sample(n, 500, () => submit('hot')));
  const cachedRef = summarize(await sample(n, 500, () => bare('hot', neurons.length - 1)));
  // Fresh contents each time, as in the other uncached cases (a repeated batch would hit the L2 cache).
  const batch = summarize(
    await sample(n / 5, 100, async () => {
      const payload = { signals: Array.from({ length: 10 }, () => ({ content: `batch item ${i++}` })) };
      const res = await rt.app.inject({ method: 'POST', url: '/v1/signals/batch', payload });
      if (res.statusCode !== 200) throw new Error(`batch answered ${res.statusCode}: ${res.body}`);
    }),
  );
  await rt.shutdown();
  return [
    { name: 'single signal (3 hops)', guideMs: 10, targetMs: 0.5, hal9: single, reference: singleRef },
    { name: '10 parallel', guideMs: 20, targetMs: 2, hal9: ten, reference: tenRef },
    { name: 'cached (L2 hit after L4, L3)', guideMs: 2, targetMs: 0.1, hal9: cached, reference: cachedRef },
    { name: 'batch of 10 (batch API)', guideMs: 15, targetMs: 2, hal9: batch, reference: tenRef },
  ];
}
