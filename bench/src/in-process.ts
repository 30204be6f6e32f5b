import { MockBackend } from '../../runtime/src/claude/mock.ts';
import { parseConfig } from '../../runtime/src/config/parse.ts';
import { parseAnswer } from '../../runtime/src/pipeline/protocol.ts';
import { createRuntime } from '../../runtime/src/runtime.ts';
import { type Summary, sample, summarize } from './stats.ts';

// The guide's four cases, in process (no sockets): the engine's own cost per request.
// Reference: the bare work a request needs (three mock answers parsed, no pipeline), same run.

export interface InProcessRow {
  readonly name: string;
  readonly guideMs: number;
  readonly targetMs: number;
  readonly hal9: Summary;
  readonly reference: Summary;
}

const N = 3000;

export async function inProcess(): Promise<InProcessRow[]> {
  const rt = createRuntime(parseConfig({ performance: { cache_layers: [] } }));
  const cachedRt = createRuntime(
    parseConfig({
      neurons: [{ id: 'impl-1', layer: 'L2', system_prompt: 'impl', forward_connections: [] }],
      performance: { cache_layers: ['L2'] },
    }),
  );
  await rt.app.ready();
  const mock = new MockBackend({});
  const neurons = rt.config.neurons;
  const bare = async (content: string) => {
    let c = content;
    for (const n of neurons) {
      const a = await mock.complete(n, c);
      const p = parseAnswer(a.text);
      c = p.forwards[0]?.content ?? p.results[0] ?? c;
    }
    return c;
  };
  let i = 0;
  const single = summarize(await sample(N, 500, () => rt.engine.submit({ content: `signal ${i++}` }).done));
  const singleRef = summarize(await sample(N, 500, () => bare(`signal ${i++}`)));
  const ten = summarize(
    await sample(N / 5, 100, () =>
      Promise.all(Array.from({ length: 10 }, () => rt.engine.submit({ content: `p ${i++}` }).done)),
    ),
  );
  const tenRef = summarize(
    await sample(N / 5, 100, () => Promise.all(Array.from({ length: 10 }, () => bare(`p ${i++}`)))),
  );
  await cachedRt.engine.submit({ content: 'hot' }).done;
  const cached = summarize(await sample(N, 500, () => cachedRt.engine.submit({ content: 'hot' }).done));
  const cachedRef = summarize(await sample(N, 500, () => mock.complete(cachedRt.config.neurons[0]!, 'hot')));
  const payload = { signals: Array.from({ length: 10 }, (_, k) => ({ content: `batch item ${k}` })) };
  const batch = summarize(
    await sample(N / 5, 100, () => rt.app.inject({ method: 'POST', url: '/v1/signals/batch', payload })),
  );
  await rt.shutdown();
  await cachedRt.shutdown();
  return [
    { name: 'single signal (3 hops)', guideMs: 10, targetMs: 0.5, hal9: single, reference: singleRef },
    { name: '10 parallel', guideMs: 20, targetMs: 2, hal9: ten, reference: tenRef },
    { name: 'cached (L2 hit)', guideMs: 2, targetMs: 0.1, hal9: cached, reference: cachedRef },
    { name: 'batch of 10 (batch API)', guideMs: 15, targetMs: 2, hal9: batch, reference: tenRef },
  ];
}
