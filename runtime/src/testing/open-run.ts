import type { Clock } from '../pipeline/clock.ts';
import { Deadlines } from '../pipeline/deadlines.ts';
import { RequestRun } from '../pipeline/request-run.ts';
import type { Signal } from '../pipeline/signal.ts';

/** A recorded request run `r1` (entry `lead`, a 60 s deadline on `clock`) with `signal` open in it. */
export function openRun(clock: Clock, signal: Signal): RequestRun {
  const run = new RequestRun({
    id: 'r1',
    traceId: 'a'.repeat(32),
    entry: 'lead',
    timeoutMs: 60_000,
    clock,
    deadlines: new Deadlines(clock),
    onEnd: () => {},
  });
  run.record();
  run.open(signal);
  return run;
}
