import { describe, expect, it } from 'vitest';
import { MAX_INPUT_TOKENS } from '../claude/completion-of.ts';
import { MAX_COST_USD, MAX_DURATION_MS, MAX_OUTPUT_TOKENS } from '../http/schemas.ts';
import { traceEntry } from '../pipeline/trace-entry.ts';
import { neuronConfig, signalTo } from '../testing/builders.ts';
import { peerAnswerChecks } from './peer-answer.ts';

// A peer pod's answer keeps only the fields the signal API answers with: anything else would be held
// by the request (and its store) without being counted or ever shown.

const trace = traceEntry(signalTo('impl'), neuronConfig('impl'), false, 1, [], []);
const hidden = 'h'.repeat(1024);

describe('peerAnswerChecks', () => {
  it('removes fields the schemas do not name from outcomes, their entries and their errors', () => {
    const outcomes = peerAnswerChecks().outcomes(
      [
        {
          results: [{ neuron: 'impl', layer: 'L2', content: 'ok', hidden }],
          trace: [
            {
              ...trace,
              hidden,
              usage: { input: 1, output: 1, cacheRead: 0, cacheCreation: 0, hidden },
              error: { code: 'PEER_ERROR', message: 'm', hidden },
            },
          ],
          errors: [{ code: 'PEER_ERROR', message: 'm', hidden }],
          hidden,
        },
      ],
      1,
    );
    expect(JSON.stringify(outcomes)).not.toContain(hidden);
    expect(outcomes).toEqual([
      {
        results: [{ neuron: 'impl', layer: 'L2', content: 'ok' }],
        trace: [
          {
            ...trace,
            usage: { input: 1, output: 1, cacheRead: 0, cacheCreation: 0 },
            error: { code: 'PEER_ERROR', message: 'm' },
          },
        ],
        errors: [{ code: 'PEER_ERROR', message: 'm' }],
      },
    ]);
  });

  it('removes them from a streamed line and from the last line’s errors', () => {
    const checks = peerAnswerChecks();
    const line = checks.progress(
      { ...trace, hidden },
      { neuron: 'impl', layer: 'L2', content: 'ok', hidden },
    );
    expect(line).toEqual({ trace, result: { neuron: 'impl', layer: 'L2', content: 'ok' } });
    expect(checks.errors([[{ code: 'PEER_ERROR', message: 'm', hidden }]], 1)).toEqual([
      [{ code: 'PEER_ERROR', message: 'm' }],
    ]);
  });

  it('keeps a trace entry’s errors, each unknown code named as PEER_ERROR as the entry’s error is', () => {
    const checks = peerAnswerChecks();
    const cycle = { code: 'CYCLE_DETECTED', message: 'b → a would revisit a', neuron: 'b' };
    const newer = { code: 'FROM_A_NEWER_PEER', message: 'm' };
    const entry = { ...trace, errors: [cycle, { ...newer, hidden }] };
    const known = { ...trace, errors: [cycle, { code: 'PEER_ERROR', message: 'FROM_A_NEWER_PEER: m' }] };
    expect(checks.outcomes([{ results: [], trace: [entry], errors: [] }], 1)).toEqual([
      { results: [], trace: [known], errors: [] },
    ]);
    expect(checks.progress(entry, undefined)).toEqual({ trace: known });
    expect(
      checks.outcomes([{ results: [], trace: [{ ...trace, errors: [{ code: 'X' }] }], errors: [] }], 1),
    ).toContain('/0/trace/0/errors/0 must have required property');
  });

  it('takes the children a streamed entry names, each id and layer bounded', () => {
    const checks = peerAnswerChecks();
    const named = { ...trace, children: [{ signal: 'c1', layer: 'L2' }] };
    expect(checks.progress(named, undefined)).toEqual({ trace: named });
    expect(
      checks.progress({ ...trace, children: [{ signal: 'c'.repeat(65), layer: 'L2' }] }, undefined),
    ).toContain('/children/0/signal must NOT have more than 64 characters');
    // Not in a batch's outcomes: only a streamed entry names them.
    expect(checks.outcomes([{ results: [], trace: [named], errors: [] }], 1)).toEqual([
      { results: [], trace: [trace], errors: [] },
    ]);
  });

  describe('bounds the numbers a request totals, naming the field and the bound', () => {
    const usage = { input: 1, output: 1, cacheRead: 0, cacheCreation: 0 };
    const cases: [string, Record<string, unknown>, string][] = [
      [
        'negative input tokens',
        { usage: { ...usage, input: -5 } },
        "/usage/input must be >= 0 (the runtime's bound for an answer's input tokens)",
      ],
      [
        'input tokens of 1e308',
        { usage: { ...usage, input: 1e308 } },
        `/usage/input must be <= ${MAX_INPUT_TOKENS} (the runtime's bound for an answer's input tokens)`,
      ],
      [
        'cache read tokens past the bound',
        { usage: { ...usage, cacheRead: MAX_INPUT_TOKENS + 1 } },
        `/usage/cacheRead must be <= ${MAX_INPUT_TOKENS}`,
      ],
      [
        'cache write tokens that are not whole',
        { usage: { ...usage, cacheCreation: 0.5 } },
        '/usage/cacheCreation must be integer',
      ],
      [
        'output tokens past the largest claude.max_tokens',
        { usage: { ...usage, output: MAX_OUTPUT_TOKENS + 1 } },
        `/usage/output must be <= ${MAX_OUTPUT_TOKENS} (the largest claude.max_tokens)`,
      ],
      [
        'output tokens of null (a NaN sent as JSON)',
        { usage: { ...usage, output: null } },
        '/usage/output must be integer',
      ],
      ['a negative cost', { usage, costUsd: -0.01 }, '/costUsd must be >= 0'],
      ['a cost of 1e308', { usage, costUsd: 1e308 }, `/costUsd must be <= ${MAX_COST_USD}`],
      ['a cost of null', { usage, costUsd: null }, '/costUsd must be number'],
      ['a negative duration', { durationMs: -1 }, '/durationMs must be >= 0'],
      [
        'a duration of 1e308',
        { durationMs: 1e308 },
        `/durationMs must be <= ${MAX_DURATION_MS} (the largest performance.request_timeout_ms)`,
      ],
      ['negative retries', { retries: -1 }, '/retries must be >= 0'],
      ['a negative hop', { hop: -1 }, '/hop must be >= 0'],
    ];
    for (const [name, fields, why] of cases) {
      it(`refuses ${name}`, () => {
        const checks = peerAnswerChecks();
        const hostile = { ...trace, ...fields };
        const batch = checks.outcomes([{ results: [], trace: [hostile], errors: [] }], 1);
        expect(batch).toContain(`/0/trace/0${why}`);
        expect(checks.progress(hostile, undefined)).toContain(why);
      });
    }

    it('takes every number at its bound', () => {
      const atBounds = {
        ...trace,
        durationMs: MAX_DURATION_MS,
        usage: {
          input: MAX_INPUT_TOKENS,
          output: MAX_OUTPUT_TOKENS,
          cacheRead: MAX_INPUT_TOKENS,
          cacheCreation: MAX_INPUT_TOKENS,
        },
        costUsd: MAX_COST_USD,
        retries: 0,
      };
      expect(peerAnswerChecks().outcomes([{ results: [], trace: [atBounds], errors: [] }], 1)).toEqual([
        { results: [], trace: [atBounds], errors: [] },
      ]);
      expect(peerAnswerChecks().progress(atBounds, undefined)).toEqual({ trace: atBounds });
    });
  });
});
