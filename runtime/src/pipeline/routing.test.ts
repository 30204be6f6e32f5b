import { describe, expect, it } from 'vitest';
import type { NeuronConfig } from '../config/types.ts';
import { neuronConfig } from '../testing/builders.ts';
import { parseAnswer } from './protocol.ts';
import { planForwards, refuseForwarded } from './routing.ts';

const neuron = (id: string, forward: string[]) => neuronConfig(id, 'L3', forward);

const known = new Set(['a', 'b', 'c', 'a2', 'a3', 'a4']);
const LONG = 'x'.repeat(20_000);

const cases: {
  name: string;
  answer: string;
  from?: NeuronConfig;
  path?: string[];
  hop?: number;
  maxFanout?: number;
  children: [string, string][];
  dropped: [string, string][];
  codes: string[];
}[] = [
  {
    name: 'forwards the CONTENT to a connected target',
    answer: 'FORWARD_TO: b\nCONTENT: go',
    children: [['b', 'go']],
    dropped: [],
    codes: [],
  },
  {
    name: 'passes the incoming content through when there is no CONTENT',
    answer: 'FORWARD_TO: b',
    children: [['b', 'incoming']],
    dropped: [],
    codes: [],
  },
  {
    // No error of the plan's own: the other target is followed. A branch left with nothing at all
    // is failed by routeAnswer (UNROUTABLE_ANSWER, route-answer.test.ts).
    name: 'drops a target outside forward_connections, without an error',
    answer: 'FORWARD_TO: b, c\nCONTENT: x',
    children: [['b', 'x']],
    dropped: [['c', 'not_connected']],
    codes: [],
  },
  {
    name: 'drops a connected target that no runtime knows',
    answer: 'FORWARD_TO: zz',
    from: neuron('a', ['zz']),
    children: [],
    dropped: [['zz', 'not_connected']],
    codes: [],
  },
  {
    name: 'refuses to revisit a neuron on its own path',
    answer: 'FORWARD_TO: c',
    from: neuron('a', ['c']),
    path: ['c', 'b'],
    children: [],
    dropped: [['c', 'cycle']],
    codes: ['CYCLE_DETECTED'],
  },
  {
    name: 'ends the branch at the hop limit',
    answer: 'FORWARD_TO: b',
    hop: 15,
    children: [],
    dropped: [['b', 'hop_limit']],
    codes: ['HOP_LIMIT_EXCEEDED'],
  },
  {
    name: 'follows a target named twice with the same content once',
    answer: 'FORWARD_TO: b, b\nFORWARD_TO: b\nCONTENT: y',
    children: [['b', 'y']],
    dropped: [],
    codes: [],
  },
  {
    name: 'follows a target once per distinct content: two pieces of work are two children',
    answer:
      'FORWARD_TO: b\nCONTENT: backend\nFORWARD_TO: b\nCONTENT: frontend\nFORWARD_TO: b\nCONTENT: backend',
    children: [
      ['b', 'backend'],
      ['b', 'frontend'],
    ],
    dropped: [],
    codes: [],
  },
  {
    name: 'counts a second content for one target against max_fanout, a repeat of it dropped once',
    answer: 'FORWARD_TO: a2\nCONTENT: one\nFORWARD_TO: a2\nCONTENT: two\nFORWARD_TO: a2\nCONTENT: two',
    from: neuron('a', ['a2']),
    maxFanout: 1,
    children: [['a2', 'one']],
    dropped: [['a2', 'fanout_limit']],
    codes: ['FANOUT_LIMIT_EXCEEDED'],
  },
  {
    name: 'drops a target once however many contents it is named with',
    answer: 'FORWARD_TO: c\nCONTENT: one\nFORWARD_TO: c\nCONTENT: two',
    from: neuron('a', ['c']),
    path: ['c'],
    children: [],
    dropped: [['c', 'cycle']],
    codes: ['CYCLE_DETECTED'],
  },
  {
    name: 'drops distinct targets beyond max_fanout with one FANOUT_LIMIT_EXCEEDED',
    answer: 'FORWARD_TO: a2, a3, a4',
    from: neuron('a', ['a2', 'a3', 'a4']),
    maxFanout: 1,
    children: [['a2', 'incoming']],
    dropped: [
      ['a3', 'fanout_limit'],
      ['a4', 'fanout_limit'],
    ],
    codes: ['FANOUT_LIMIT_EXCEEDED'],
  },
  {
    name: 'a plain answer forwards nothing',
    answer: 'just text',
    children: [],
    dropped: [],
    codes: [],
  },
  {
    // Contents past 1,024 characters are told apart by their digest: each distinct one is followed
    // once, a repeated one is not counted again.
    name: 'follows each distinct long content for one target once, and counts the rest past max_fanout',
    answer: ['1', '2', '1', '3', '4', '2'].map((k) => `FORWARD_TO: b\nCONTENT: ${LONG}${k}`).join('\n'),
    maxFanout: 2,
    children: [
      ['b', `${LONG}1`],
      ['b', `${LONG}2`],
    ],
    dropped: [
      ['b', 'fanout_limit'],
      ['b', 'fanout_limit'],
    ],
    codes: ['FANOUT_LIMIT_EXCEEDED'],
  },
];

describe('planForwards', () => {
  for (const c of cases) {
    it(c.name, () => {
      const plan = planForwards({
        neuron: c.from ?? neuron('a', ['b']),
        known,
        path: c.path ?? [],
        hop: c.hop ?? 0,
        hopLimit: 16,
        maxFanout: c.maxFanout ?? 10,
        incoming: 'incoming',
        parsed: parseAnswer(c.answer),
      });
      expect(plan.children.map((x) => [x.target, x.content])).toEqual(c.children);
      expect(plan.dropped.map((x) => [x.target, x.reason])).toEqual(c.dropped);
      expect(plan.errors.map((e) => e.code)).toEqual(c.codes);
    });
  }
});

describe('refuseForwarded', () => {
  const n = neuron('b', []);
  it.each([
    ['accepts a signal within the hop limit and off its path', { hop: 2, path: ['a'] }, undefined],
    ['refuses a hop count at the limit', { hop: 4, path: ['a'] }, 'HOP_LIMIT_EXCEEDED'],
    [
      'refuses a path as long as the limit (a peer cannot under-report its hop)',
      { hop: 0, path: ['a', 'c', 'd', 'e'] },
      'HOP_LIMIT_EXCEEDED',
    ],
    ['refuses a signal that would revisit the neuron', { hop: 1, path: ['b'] }, 'CYCLE_DETECTED'],
  ])('%s', (_name, s, code) => {
    const refused = refuseForwarded(n, s, 4);
    expect(refused?.code).toBe(code);
    if (code) expect(refused?.neuron).toBe('b');
  });
});
