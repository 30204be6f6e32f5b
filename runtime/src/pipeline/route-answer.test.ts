import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import { neuronConfig, signalTo } from '../testing/builders.ts';
import { MAX_RESULTS_PER_ANSWER, type RouteInput, routeAnswer } from './route-answer.ts';

const design = neuronConfig('design', 'L3', ['impl-a', 'impl-b']);
const known = new Map([
  ['design', design],
  ['impl-a', neuronConfig('impl-a')],
  ['impl-b', neuronConfig('impl-b')],
]);

function route(text: string, extra: Partial<RouteInput> = {}) {
  let n = 0;
  return routeAnswer({
    signal: signalTo('design', { id: 'parent', hop: 1, path: ['strategy'], metadata: { team: 'x' } }),
    neuron: design,
    text,
    known,
    performance: DEFAULT_CONFIG.performance,
    spentSignals: 2,
    nextId: () => `c${++n}`,
    ...extra,
  });
}

describe('routeAnswer', () => {
  it('turns FORWARD_TO into child signals one hop further, with the path and metadata carried on', () => {
    const r = route('FORWARD_TO: impl-a, impl-b\nCONTENT: build it');
    expect(r.children).toEqual([
      expect.objectContaining({ id: 'c1', parentId: 'parent', from: 'design', to: 'impl-a', hop: 2 }),
      expect.objectContaining({ id: 'c2', parentId: 'parent', from: 'design', to: 'impl-b', hop: 2 }),
    ]);
    for (const c of r.children) {
      expect(c).toMatchObject({ requestId: 'r1', content: 'build it', metadata: { team: 'x' } });
      expect(c.path).toEqual(['strategy', 'design']);
    }
    expect(r.results).toEqual([]);
    expect(r.dropped).toEqual([]);
  });

  it('gives each child its content when the contents are copied out of a long answer', () => {
    // Under half of the answer, the contents are copied (retention.test.ts sees what that keeps):
    // each child still gets its own, two children one content, and a repeated incoming one stays.
    const filler = 'x'.repeat(10_000);
    const r = route(
      `${filler}\nFORWARD_TO: impl-a, impl-b\nCONTENT: the shared task\nFORWARD_TO: impl-a\nCONTENT: the incoming task`,
      { signal: signalTo('design', { content: 'the incoming task' }) },
    );
    expect(r.children.map((c) => [c.to, c.content])).toEqual([
      ['impl-a', 'the shared task'],
      ['impl-b', 'the shared task'],
      ['impl-a', 'the incoming task'],
    ]);
  });

  it('tells the caller of a line written as a directive and not read as one, last among the errors', () => {
    // The mistyped FORWARD_TO goes before the first directive, so it was dropped without a word.
    const r = route('FORWARD_TO\uff1a impl-a\nCONTENT: build it');
    expect(r.children).toEqual([]);
    expect(r.results).toEqual([{ neuron: 'design', layer: 'L3', content: 'build it' }]);
    expect(r.errors).toEqual([
      expect.objectContaining({
        code: 'MALFORMED_DIRECTIVE',
        neuron: 'design',
        message: expect.stringContaining(
          'design\'s answer has a line written as a directive but not read as one: "FORWARD_TO\uff1a impl-a"',
        ),
      }),
    ]);
    // With nothing else to go on, the misread line is the branch's last error, the one its trace names.
    const nothing = route('**FORWARD_TO:** impl-a\n# RESULT: built\nCONTENT:');
    expect(nothing.results).toEqual([]);
    expect(nothing.errors.map((e) => e.code)).toEqual(['UNROUTABLE_ANSWER', 'MALFORMED_DIRECTIVE']);
    expect(nothing.errors[1]!.message).toContain('2 lines written as a directive');
    expect(route('RESULT: done\nResult: in prose').errors).toEqual([]);
  });

  it('routes the directives after a code fence that never closes, and after inline code at a line start', () => {
    const r = route('RESULT: ```js\nlet x = 1;\nFORWARD_TO: impl-a\nCONTENT: build it');
    expect(r.children.map((c) => [c.to, c.content])).toEqual([['impl-a', 'build it']]);
    expect(r.results).toEqual([{ neuron: 'design', layer: 'L3', content: '```js\nlet x = 1;' }]);
    expect(r.errors).toEqual([]);
    const inline = route('```js x = 1```\nFORWARD_TO: impl-a\nCONTENT: build it');
    expect(inline.children.map((c) => [c.to, c.content])).toEqual([['impl-a', 'build it']]);
    expect(inline.errors).toEqual([]);
  });

  it('makes RESULT lines the neuron’s results and starts no child', () => {
    const r = route('RESULT: done\nRESULT: and more');
    expect(r.results).toEqual([
      { neuron: 'design', layer: 'L3', content: 'done' },
      { neuron: 'design', layer: 'L3', content: 'and more' },
    ]);
    expect(r.children).toEqual([]);
  });

  it('keeps at most MAX_RESULTS_PER_ANSWER results of one answer and names the limit for the rest', () => {
    const text = Array.from({ length: MAX_RESULTS_PER_ANSWER + 50 }, (_, i) => `RESULT: r${i}`).join('\n');
    const r = route(`${text}\nFORWARD_TO: impl-a\nCONTENT: go`);
    expect(r.results).toHaveLength(MAX_RESULTS_PER_ANSWER);
    expect(r.results.at(-1)).toEqual({
      neuron: 'design',
      layer: 'L3',
      content: `r${MAX_RESULTS_PER_ANSWER - 1}`,
    });
    expect(r.errors).toEqual([
      expect.objectContaining({
        code: 'RESULT_LIMIT_EXCEEDED',
        neuron: 'design',
        message: expect.stringContaining(`held ${MAX_RESULTS_PER_ANSWER + 50} RESULT blocks`),
      }),
    ]);
    // The rest of the answer still routes.
    expect(r.children.map((c) => c.to)).toEqual(['impl-a']);
    const exact = route(Array.from({ length: MAX_RESULTS_PER_ANSWER }, (_, i) => `RESULT: r${i}`).join('\n'));
    expect(exact.results).toHaveLength(MAX_RESULTS_PER_ANSWER);
    expect(exact.errors).toEqual([]);
  });

  it('fails an answer that neither results nor forwards, naming what it held', () => {
    expect(route('').errors).toEqual([
      expect.objectContaining({
        code: 'UNROUTABLE_ANSWER',
        neuron: 'design',
        message: expect.stringContaining('no text'),
      }),
    ]);
    // A blank RESULT is no result: the branch fails rather than completing with nothing.
    expect(route('RESULT:  \n').errors).toEqual([
      expect.objectContaining({
        code: 'UNROUTABLE_ANSWER',
        message: "design's answer had no text, no RESULT with text and no FORWARD_TO",
      }),
    ]);
    const back = route('BACKWARD_TO: strategy\nERROR_TYPE: Timeout');
    expect(back.errors).toEqual([
      expect.objectContaining({ code: 'UNROUTABLE_ANSWER', message: expect.stringContaining('Timeout') }),
    ]);
    expect(back.backward).toEqual({ targets: ['strategy'], errorType: 'Timeout' });
    expect(route('CONTENT: kept').results).toEqual([{ neuron: 'design', layer: 'L3', content: 'kept' }]);
  });

  // An answer whose forwards all went nowhere would otherwise "complete" its branch with nothing.
  const forwardsNowhere: { name: string; text: string; extra?: Partial<RouteInput>; message: RegExp }[] = [
    {
      name: 'a target outside forward_connections',
      text: 'FORWARD_TO: nobody\nCONTENT: hi',
      message:
        /design's answer had no result, and FORWARD_TO only to nobody \(not in its forward_connections\)/,
    },
    {
      name: 'a connected target no runtime hosts',
      text: 'FORWARD_TO: impl-c',
      extra: { neuron: neuronConfig('design', 'L3', ['impl-a', 'impl-c']) },
      message: /FORWARD_TO only to impl-c \(no runtime hosts it\)/,
    },
    {
      name: 'several dropped targets, each with its reason',
      text: 'FORWARD_TO: x, y\nFORWARD_TO: x',
      message:
        /FORWARD_TO only to x \(not in its forward_connections\), y \(not in its forward_connections\)$/,
    },
    {
      name: 'a FORWARD_TO with no target',
      text: 'FORWARD_TO:\nCONTENT: hi',
      message: /design's answer had no result and a FORWARD_TO with no target/,
    },
  ];
  for (const c of forwardsNowhere) {
    it(`fails a branch whose only forward went nowhere: ${c.name}`, () => {
      const r = route(c.text, c.extra);
      expect(r.children).toEqual([]);
      expect(r.results).toEqual([]);
      expect(r.errors).toEqual([
        expect.objectContaining({
          code: 'UNROUTABLE_ANSWER',
          neuron: 'design',
          message: expect.stringMatching(c.message),
        }),
      ]);
    });
  }

  it('keeps a dropped target silent when the answer has a result or another target is followed', () => {
    expect(route('FORWARD_TO: nowhere\nRESULT: done').errors).toEqual([]);
    expect(route('FORWARD_TO: impl-a, nowhere').errors).toEqual([]);
  });

  it('lets a dropped forward’s own error (cycle, hop limit) explain the empty branch, alone', () => {
    const cycle = route('FORWARD_TO: impl-a', {
      signal: signalTo('design', { id: 'parent', hop: 1, path: ['impl-a'] }),
    });
    expect(cycle.errors.map((e) => e.code)).toEqual(['CYCLE_DETECTED']);
    const hops = route('FORWARD_TO: impl-a', {
      signal: signalTo('design', { id: 'parent', hop: 15, path: [] }),
    });
    expect(hops.errors.map((e) => e.code)).toEqual(['HOP_LIMIT_EXCEEDED']);
  });

  it('names at most ten dropped targets and counts the rest, each cut to a neuron id’s length', () => {
    const many = Array.from({ length: 12 }, (_, i) => `t${i}`).join(', ');
    expect(route(`FORWARD_TO: ${many}`).errors[0]!.message).toMatch(
      /t9 \(not in its forward_connections\) and 2 more$/,
    );
    const long = route(`FORWARD_TO: ${'x'.repeat(500)}`).errors[0]!.message;
    expect(long).toContain(`${'x'.repeat(63)}… (not in`);
    expect(long.length).toBeLessThan(200);
  });

  it('cuts the children to what the request’s signal budget has room for', () => {
    const budget = { ...DEFAULT_CONFIG.performance.request_budget, max_signals: 3 };
    const r = route('FORWARD_TO: impl-a, impl-b', {
      performance: { ...DEFAULT_CONFIG.performance, request_budget: budget },
    });
    expect(r.children.map((c) => c.to)).toEqual(['impl-a']);
    expect(r.dropped).toEqual([{ target: 'impl-b', reason: 'budget' }]);
    expect(r.errors).toEqual([
      expect.objectContaining({ code: 'BUDGET_EXCEEDED', field: 'performance.request_budget.max_signals' }),
    ]);
  });

  it('drops targets the neuron is not connected to, and uses no id for them', () => {
    let ids = 0;
    const r = route('FORWARD_TO: elsewhere', { nextId: () => `c${++ids}` });
    expect(r.children).toEqual([]);
    expect(r.dropped).toEqual([{ target: 'elsewhere', reason: 'not_connected' }]);
    expect(ids).toBe(0);
  });

  it('records BACKWARD_TO and ERROR_TYPE for the trace, bounded, and acts on neither', () => {
    const r = route('BACKWARD_TO: strategy\nERROR_TYPE: invalid_input');
    expect(r.backward).toEqual({ targets: ['strategy'], errorType: 'invalid_input' });
    expect(r.children).toEqual([]);
    const many = route(
      `BACKWARD_TO: ${Array.from({ length: 500 }, (_, i) => `n${i}`).join(', ')}\nERROR_TYPE: ${'e'.repeat(1000)}`,
    );
    expect(many.backward!.targets).toHaveLength(100);
    expect(many.backward!.errorType).toHaveLength(200);
    expect(route('RESULT: done').backward).toBeUndefined();
  });
});
