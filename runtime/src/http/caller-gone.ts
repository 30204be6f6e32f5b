import type { FastifyReply } from 'fastify';
import { Hal9Error } from '../errors.ts';
import type { RequestRun } from '../pipeline/request-run.ts';

// A waiting caller that closes its connection before its answer (its own timeout, a user who left, a
// pod whose request ended) will never read it: its requests end then and there (CLIENT_CLOSED), so
// their model and peer calls are cancelled and their executor slots and upstream permits go to
// callers still waiting, instead of being held to the deadline for nobody. Streams and ?wait=false
// requests are kept by id for a caller that comes back, so they go on.

/** Calls `gone` with a CLIENT_CLOSED cause when the connection closes before the reply is sent. */
export function whenCallerLeaves(reply: FastifyReply, gone: (cause: Hal9Error) => void): void {
  const res = reply.raw;
  const left = () => {
    // 'close' follows every response: only one not sent in full means the caller left first.
    if (res.writableFinished) return;
    gone(
      new Hal9Error(
        'CLIENT_CLOSED',
        'the caller closed its connection before the answer; the request was cancelled',
      ),
    );
  };
  // The connection may have closed already (while the body was read): then 'close' has been emitted.
  if (res.destroyed) left();
  else res.once('close', left);
}

/** Ends `runs` (CLIENT_CLOSED) when the connection closes before the reply is sent. */
export function cancelWhenCallerLeaves(reply: FastifyReply, runs: readonly RequestRun[]): void {
  whenCallerLeaves(reply, (cause) => {
    for (const run of runs) run.timeOut(cause);
  });
}
