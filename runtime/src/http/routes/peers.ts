import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  arrivalOrigin,
  BATCH_HEADER,
  BATCH_ORIGIN_HEADER,
  CANCEL_REQUEST_HEADER,
} from '../../cluster/batch-origin.ts';
import { Hal9Error } from '../../errors.ts';
import type { Clock } from '../../pipeline/clock.ts';
import type { Engine } from '../../pipeline/engine.ts';
import type { BranchOutcome, ForwardedSignal } from '../../pipeline/signal.ts';
import { ServerSpans } from '../../tracing/server-spans.ts';
import { bearerGuard } from '../auth-hook.ts';
import { whenCallerLeaves } from '../caller-gone.ts';
import type { Credentials } from '../credentials.ts';
import { PeerBatches } from '../peer-batches.ts';
import { requestAttributes } from '../request-attributes.ts';
import { batchCancel, forwardedBatch, MAX_BATCH_CANCEL_BYTES } from '../schemas.ts';

// The internal endpoint other runtime pods of the same cluster forward batches to, authenticated with
// the cluster's peer token when one is configured. Hop, path and deadline are re-checked by the engine.
// A sender that follows a stream asks for `application/x-ndjson`: each trace entry and result of every
// sub-tree is a line as it happens, then one line with the outcomes' errors. A sender that may cancel
// part of a batch (`hal9-cancel`) gets the batch's id and this pod's address as the answer starts
// (unless the whole answer is ready within BATCH_HEAD_AFTER_MS), and names the signals to stop at
// /v1/internal/batches/:batch/cancel, on this pod.

export interface PeerRoutesOptions {
  readonly engine: Engine;
  readonly peers: Credentials;
  readonly clock: Clock;
}

/**
 * How long a batch whose sender may cancel part of it runs before its head (the batch's id and this
 * pod's address) is sent ahead of the answer. A request that ends sooner has its signals run on here
 * for at most this long; its sender stops waiting for them at once either way.
 */
export const BATCH_HEAD_AFTER_MS = 20;

/** Whether `p` settles (either way) within `ms`. */
function settlesWithin(p: Promise<unknown>, ms: number, clock: Clock): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(false), ms);
    const settled = () => {
      clock.clearTimeout(timer);
      resolve(true);
    };
    p.then(settled, settled);
  });
}

export const NDJSON = 'application/x-ndjson';
const BATCH_ROUTE = '/v1/neurons/:id/signals';

// Node joins repeated tracestate headers with ", ", as W3C Trace Context combines them.
const callerContext = (req: FastifyRequest) => ({
  traceparent: req.headers.traceparent as string | undefined,
  tracestate: req.headers.tracestate as string | undefined,
});

export async function peerRoutes(app: FastifyInstance, { engine, peers, clock }: PeerRoutesOptions) {
  // Traced: the call's server spans, set up as it arrives (before the token check and the body's
  // validation, whose refusals show too) and ended when its response closes, with the status sent.
  // A cancellation carries no trace context and does no work of its own: it has none.
  const serverSpans = new WeakMap<FastifyRequest, ServerSpans>();
  // Calls that passed the token check (all, with no token configured): only those are in the caller's
  // trace. A refused call's traceparent is anyone's: under it, a caller would choose the trace its span
  // goes in and have it sampled, whatever the sampler's ratio. Its span is a new trace's root instead.
  const trusted = new WeakSet<FastifyRequest>();
  const contextOf = (req: FastifyRequest) => (peers.size === 0 || trusted.has(req) ? callerContext(req) : {});
  if (engine.tracing.enabled)
    app.addHook('onRequest', async (req, reply) => {
      if (req.routeOptions.url !== BATCH_ROUTE) return;
      const { id } = req.params as { id?: string };
      const spans = new ServerSpans(engine.tracing, `POST ${req.routeOptions.url}`, {
        ...requestAttributes(req),
        ...(id ? { 'hal9.neuron': id } : {}),
      });
      serverSpans.set(req, spans);
      const res = reply.raw;
      // 'close' follows every response, sent in full or not: the status is the one sent, if any, and
      // one not sent in full means the caller left first.
      res.once('close', () =>
        spans.end(res.headersSent ? res.statusCode : undefined, contextOf(req), !res.writableFinished),
      );
    });
  if (peers.size > 0)
    app.addHook(
      'onRequest',
      bearerGuard(peers, 'hal9-peers', (req) => trusted.add(req)),
    );
  const batches = new PeerBatches();
  app.post<{ Params: { id: string }; Body: { signals: ForwardedSignal[]; deadlineMs: number } }>(
    BATCH_ROUTE,
    { schema: { body: forwardedBatch } },
    async (req, reply) => {
      // The batch's context; each signal may carry its own (forwarded-intake.ts picks per signal).
      const context = callerContext(req);
      const { signals, deadlineMs } = req.body;
      const spans = serverSpans.get(req);
      spans?.describe({ 'hal9.batch_size': signals.length });
      // The sending pod cancels its call when no request of the batch waits any more: the sub-runs end.
      const gone = new AbortController();
      whenCallerLeaves(reply, (cause) => gone.abort(cause));
      const streamed = String(req.headers.accept ?? '').includes(NDJSON);
      // A sender that may cancel part of the batch gets its id and this pod's own address as the
      // answer starts (peer-batches.ts, batch-origin.ts).
      const batch = req.headers[CANCEL_REQUEST_HEADER] === undefined ? undefined : batches.open();
      const lines: string[] = [];
      let raw: typeof reply.raw | undefined;
      const write = (line: string) => (raw ? raw.write(line) : lines.push(line));
      let done: Promise<BranchOutcome[]>;
      try {
        // Refusals (unknown neuron, queue full) throw here, before anything is sent: a plain error answer.
        done = engine.runForwarded(req.params.id, signals, deadlineMs, {
          headers: context,
          onProgress: streamed ? (i, p) => write(`${JSON.stringify({ i, ...p })}\n`) : undefined,
          cancel: gone.signal,
          serve: spans?.open,
          started: batch?.add,
        });
      } catch (e) {
        batch?.close();
        throw e;
      }
      spans?.hold(done);
      if (!streamed && !batch) return { outcomes: await done };
      // The batch's id and address serve only while it runs: an answer ready within BATCH_HEAD_AFTER_MS
      // goes whole, head and body in one write, as an answer without them does. Sent first, the head is
      // a write and a wake-up of the sender of its own, and most batches of a fast model are answered
      // sooner than a sender's request ends.
      if (!streamed && batch && (await settlesWithin(done, BATCH_HEAD_AFTER_MS, clock))) {
        batch.close();
        return { outcomes: await done };
      }
      reply.hijack();
      raw = reply.raw;
      const origin = batch && arrivalOrigin(req.socket.localAddress, req.socket.localPort);
      raw.writeHead(200, {
        'content-type': streamed ? NDJSON : 'application/json; charset=utf-8',
        'cache-control': 'no-cache',
        ...(batch ? { [BATCH_HEADER]: batch.id } : {}),
        ...(origin ? { [BATCH_ORIGIN_HEADER]: origin } : {}),
      });
      raw.flushHeaders();
      for (const l of lines.splice(0)) raw.write(l);
      try {
        const outcomes = await done;
        raw.end(
          streamed
            ? `${JSON.stringify({ errors: outcomes.map((o) => o.errors) })}\n`
            : JSON.stringify({ outcomes }),
        );
      } catch (e) {
        // Its status has gone: the sender sees the answer broken off (PEER_ERROR), not a wait to its deadline.
        raw.destroy(e as Error);
      } finally {
        batch?.close();
      }
      return reply;
    },
  );
  // The sender's requests these signals belong to ended there: they stop here, the batch's others
  // run on. Ids of no batch or signal running here (it ended, or never ran here) are ignored.
  app.post<{ Params: { batch: string }; Body: { signals: string[] } }>(
    '/v1/internal/batches/:batch/cancel',
    { schema: { body: batchCancel }, bodyLimit: MAX_BATCH_CANCEL_BYTES },
    async (req) => {
      const cause = new Hal9Error(
        'CLIENT_CLOSED',
        'the sending pod cancelled the signal: its request ended there (its caller left, its deadline passed, or a drain cut it off)',
      );
      return { cancelled: batches.cancel(req.params.batch, req.body.signals, cause) };
    },
  );
}
