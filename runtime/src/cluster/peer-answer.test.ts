import { describe, expect, it } from 'vitest';
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
});
