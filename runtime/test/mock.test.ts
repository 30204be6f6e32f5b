import { afterEach, describe, expect, it } from 'vitest';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

let rt: Started | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

describe('mock mode', () => {
  it('runs the embedded default topology L4 → L3 → L2 with meaningful built-in answers', async () => {
    rt = await startRuntime();
    const res = await rt.post('/v1/signals', { content: 'Build a todo app' });
    expect(res.body.trace.map((t: any) => `${t.neuron}:${t.layer}`)).toEqual([
      'strategic-1:L4',
      'design-1:L3',
      'impl-1:L2',
    ]);
    expect(res.body.results).toHaveLength(1);
    expect(res.body.results[0].content).toMatch(
      /Implementation by impl-1: Design by design-1: Strategy by strategic-1: Build a todo app/,
    );
  });

  it('forwards "Quick" with the guide benchmark config', async () => {
    rt = await startRuntime({
      neurons: [neuron('first', 'L3', ['next']), neuron('next', 'L2')],
      claude: {
        mode: 'mock',
        mock_responses: {
          L3: [answer('fast', 'FORWARD_TO: next\nCONTENT: Quick', 0)],
          L2: [answer('Quick', 'RESULT: received Quick'), answer('default', 'RESULT: received nothing')],
        },
      },
    });
    const res = await rt.post('/v1/signals', { content: 'a fast one' });
    expect(res.body.results).toEqual([{ neuron: 'next', layer: 'L2', content: 'received Quick' }]);
  });

  it('matches triggers against the content only, first match in file order, default last', async () => {
    rt = await startRuntime({
      neurons: [neuron('only', 'L2', [], { system_prompt: 'You implement code and optimize things' })],
      claude: {
        mock_responses: {
          L2: [
            answer('default', 'RESULT: default'),
            answer('alpha', 'RESULT: alpha'),
            answer('alp', 'RESULT: alp'),
            answer('optimize', 'RESULT: matched the system prompt'),
          ],
        },
      },
    });
    const ask = async (content: string) =>
      (await rt!.post('/v1/signals', { content })).body.results[0].content;
    expect(await ask('alphabet')).toBe('alpha');
    expect(await ask('alps')).toBe('alp');
    expect(await ask('nothing here')).toBe('default');
    expect(await ask('code')).toBe('default');
  });

  it('waits delay_ms before answering', async () => {
    rt = await startRuntime({
      neurons: [neuron('only', 'L2')],
      claude: { mock_responses: { L2: [answer('slow', 'RESULT: slow', 120)] } },
    });
    const res = await rt.post('/v1/signals', { content: 'slow' });
    // Behaviour, not a benchmark: the recorded processing time includes the configured delay.
    expect(res.body.trace[0].durationMs).toBeGreaterThanOrEqual(119);
  });
});
