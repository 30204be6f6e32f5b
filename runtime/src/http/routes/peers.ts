import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Engine } from '../../pipeline/engine.ts';
import type { ForwardedSignal } from '../../pipeline/signal.ts';
import { ServerSpans } from '../../tracing/server-spans.ts';
import { bearerGuard } from '../auth-hook.ts';
import { whenCallerLeaves } from '../caller-gone.ts';
import type { Credentials } from '../credentials.ts';
import { requestAttributes } from '../request-attributes.ts';
import { forwardedBatch } from '../schemas.ts';

// The internal endpoint other runtime pods of the same cluster forward batches to, authenticated with
// the cluster's peer token when one is configured. Hop, path and deadline are re-checked by the engine.
// A sender that follows a stream asks for `application/x-ndjson`: each trace entry and result of every
// sub-tree is a line as it happens, then one line with the outcomes' errors.

export interface PeerRoutesOptions {
  readonly engine: Engine;
  readonly peers: Credentials;
}

export const NDJSON = 'application/x-ndjson';

// Node joins repeated tracestate headers with ", ", as W3C Trace Context combines them.
const callerContext = (req: FastifyRequest) => ({
  traceparent: req.headers.traceparent as string | undefined,
  tracestate: req.headers.tracestate as string | undefined,
});

export async function peerRoutes(app: FastifyInstance, { engine, peers }: PeerRoutesOptions) {
  // Traced: the call's server spans, set up as it arrives (before the token check and the body's
  // validation, whose refusals show too) and ended when its response closes, with the status sent.
  const serverSpans = new WeakMap<FastifyRequest, ServerSpans>();
  if (engine.tracing.enabled)
    app.addHook('onRequest', async (req, reply) => {
      const { id } = req.params as { id?: string };
      const spans = new ServerSpans(engine.tracing, `POST ${req.routeOptions.url}`, {
        ...requestAttributes(req),
        ...(id ? { 'hal9.neuron': id } : {}),
      });
      serverSpans.set(req, spans);
      const res = reply.raw;
      // 'close' follows every response, sent in full or not: the status is the one sent, if any.
      res.once('close', () => spans.end(res.headersSent ? res.statusCode : undefined, callerContext(req)));
    });
  if (peers.size > 0) app.addHook('onRequest', bearerGuard(peers, 'hal9-peers'));
  app.post<{ Params: { id: string }; Body: { signals: ForwardedSignal[]; deadlineMs: number } }>(
    '/v1/neurons/:id/signals',
    { schema: { body: forwardedBatch } },
    async (req, reply) => {
      // The batch's context; each signal may carry its own (engine.runForwarded picks per signal).
      const context = callerContext(req);
      const { signals, deadlineMs } = req.body;
      const spans = serverSpans.get(req);
      spans?.describe({ 'hal9.batch_size': signals.length });
      // The sending pod cancels its call when no request of the batch waits any more: the sub-runs end.
      const gone = new AbortController();
      whenCallerLeaves(reply, (cause) => gone.abort(cause));
      if (!String(req.headers.accept ?? '').includes(NDJSON)) {
        const outcomes = engine.runForwarded(
          req.params.id,
          signals,
          deadlineMs,
          context,
          undefined,
          gone.signal,
          spans?.open,
        );
        spans?.hold(outcomes);
        return { outcomes: await outcomes };
      }
      const lines: string[] = [];
      let raw: typeof reply.raw | undefined;
      const write = (line: string) => (raw ? raw.write(line) : lines.push(line));
      // Refusals (unknown neuron, queue full) throw here, before anything is sent: a plain error answer.
      const done = engine.runForwarded(
        req.params.id,
        signals,
        deadlineMs,
        context,
        (i, p) => write(`${JSON.stringify({ i, ...p })}\n`),
        gone.signal,
        spans?.open,
      );
      spans?.hold(done);
      reply.hijack();
      raw = reply.raw;
      raw.writeHead(200, { 'content-type': NDJSON, 'cache-control': 'no-cache' });
      for (const l of lines.splice(0)) raw.write(l);
      const outcomes = await done;
      raw.end(`${JSON.stringify({ errors: outcomes.map((o) => o.errors) })}\n`);
      return reply;
    },
  );
}
