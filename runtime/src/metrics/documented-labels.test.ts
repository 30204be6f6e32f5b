import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MockBackend } from '../claude/mock.ts';
import { PEER_CANCEL_OUTCOMES } from '../cluster/peer-cancels.ts';
import { parseConfig } from '../config/parse.ts';
import { type ErrorCode, ErrorCodes, Hal9Error } from '../errors.ts';
import { Engine } from '../pipeline/engine.ts';
import { UPSTREAM_STATUS_KINDS, upstreamStatus } from '../pipeline/model-call.ts';
import {
  DROP_REASONS,
  LOCAL_BATCH_TARGET,
  MODEL_CALL_BUDGETS,
  silentObserver,
} from '../pipeline/observer.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { noTracing } from '../tracing/tracing.ts';
import { createMetrics } from './metrics.ts';
import { metricsObserver } from './metrics-observer.ts';

// Label values that dashboards, rules and operators read are an API: the ones docs/runtime-contract.md
// lists are exactly the ones the runtime emits.

const contract = readFileSync(new URL('../../../docs/runtime-contract.md', import.meta.url), 'utf8');
/** The backticked values in the labels cell of a metric's row of the contract's tables. */
function documentedValues(metric: string): string[] {
  const row = contract.split('\n').find((l) => l.startsWith(`| ${metric} |`));
  if (!row) throw new Error(`docs/runtime-contract.md has no row for ${metric}`);
  return [...row.split('|')[3]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

describe('hal9_upstream_requests_total{status}', () => {
  it('documents exactly the kinds the runtime emits besides an HTTP code', () => {
    expect(documentedValues('hal9_upstream_requests_total')).toEqual([...UPSTREAM_STATUS_KINDS]);
  });

  it('is an HTTP code or a documented kind for every failure the catalogue has, and for a foreign one', () => {
    const kinds = new Set<string>(UPSTREAM_STATUS_KINDS);
    const codes = Object.keys(ErrorCodes) as ErrorCode[];
    const failures = [
      new Error('not ours'),
      ...codes.map((c) => new Hal9Error(c)),
      ...codes.map((c) => new Hal9Error(c, undefined, { status: 529 })),
    ];
    const seen = new Set<string>(failures.map(upstreamStatus));
    for (const s of seen) expect(/^\d{3}$/.test(s) || kinds.has(s), s).toBe(true);
    // And no documented kind is one nothing produces.
    for (const k of kinds) expect(seen.has(k), k).toBe(true);
  });

  it('counts a call its request cut off (deadline or drain) as cancelled, and a peer’s 503 by its code', () => {
    expect(upstreamStatus(new Hal9Error('REQUEST_TIMEOUT'))).toBe('cancelled');
    expect(upstreamStatus(new Hal9Error('DRAINING'))).toBe('cancelled');
    expect(upstreamStatus(new Hal9Error('DRAINING', 'peer refused', { status: 503 }))).toBe('503');
  });

  it('counts an answer the runtime cannot read as error, whatever status it came with', () => {
    expect(upstreamStatus(new Hal9Error('PEER_ERROR', 'malformed', { malformed: true }))).toBe('error');
    expect(upstreamStatus(new Hal9Error('PEER_ERROR', 'refused', { status: 401 }))).toBe('401');
  });

  it('counts a peer that did not answer by its deadline and the grace as a timeout', () => {
    expect(upstreamStatus(new Hal9Error('PEER_TIMEOUT'))).toBe('timeout');
  });
});

describe('hal9_peer_cancels_total{outcome}', () => {
  it('documents exactly the outcomes a cancellation has', () => {
    expect(documentedValues('hal9_peer_cancels_total')).toEqual([...PEER_CANCEL_OUTCOMES]);
  });
});

describe('hal9_signals_dropped_total{reason}', () => {
  it('documents exactly the reasons the runtime counts (all exported at zero)', () => {
    expect(documentedValues('hal9_signals_dropped_total')).toEqual([...DROP_REASONS]);
  });
});

describe('hal9_model_calls_refused_total{budget}', () => {
  it('documents exactly the budgets that refuse a model call (all exported at zero)', () => {
    expect(documentedValues('hal9_model_calls_refused_total')).toEqual([...MODEL_CALL_BUDGETS]);
  });
});

describe('hal9_batch_size{target}', () => {
  it('names a batch for this pod’s executor as documented', async () => {
    expect(documentedValues('hal9_batch_size_average')).toEqual([LOCAL_BATCH_TARGET]);
    const config = parseConfig({ neurons: [{ id: 'impl', layer: 'L2' }] });
    const registry = new Registry();
    const targets: string[] = [];
    const metrics = metricsObserver(createMetrics(registry), config.neurons);
    const engine = new Engine({
      config,
      backend: new MockBackend({ L2: [{ trigger: 'default', response: 'RESULT: ok', delay_ms: 0 }] }),
      observer: {
        ...silentObserver(),
        batch: (target, size) => {
          targets.push(target);
          metrics.batch(target, size);
        },
      },
      peers: { send: () => Promise.reject(new Error('no peers here')) },
      clock: new ManualClock(),
      random: () => 0,
      tracing: noTracing(),
    });
    expect((await engine.submit({ content: 'go' }).done).status).toBe('completed');
    expect(new Set(targets)).toEqual(new Set([LOCAL_BATCH_TARGET]));
    const text = await registry.metrics();
    expect(text).toContain(`hal9_batch_size_count{target="${LOCAL_BATCH_TARGET}"} 1`);
    await engine.close();
  });
});
