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
      claude: {
        mock_responses: {
          L2: [answer('slow', 'RESULT: slow', 120), answer('stuck', 'RESULT: stuck', 600_000)],
        },
      },
    });
    // Behaviour, not a benchmark: a delay ends in its answer, and a delay longer than the request's
    // deadline is cut off by it (an answer given at once would beat any deadline).
    const slow = await rt.post('/v1/signals', { content: 'slow' });
    expect(slow.body.results).toEqual([{ neuron: 'only', layer: 'L2', content: 'slow' }]);
    const stuck = await rt.post('/v1/signals?timeout_ms=200', { content: 'stuck' });
    expect(stuck.status).toBe(504);
    expect(stuck.body.results).toEqual([]);
    expect(stuck.body.errors.map((e: { code: string }) => e.code)).toEqual(['REQUEST_TIMEOUT']);
  });
});
