import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorCode, ErrorCodes, Hal9Error } from '../../errors.ts';
import type { Engine, SubmitInput } from '../../pipeline/engine.ts';
import { MAX_RECORDED_EVENTS, type RequestRun, type RunView } from '../../pipeline/request-run.ts';
import { endError } from '../../pipeline/request-span.ts';
import type { RunStore } from '../../pipeline/run-store.ts';
import { bearerGuard } from '../auth-hook.ts';
import { cancelWhenCallerLeaves } from '../caller-gone.ts';
import type { Credentials } from '../credentials.ts';
import {
  answerable,
  type BatchItem,
  batchStatus,
  clip,
  errorBody,
  runStatus,
  toHal9Error,
} from '../error-response.ts';
import { requestAttributes } from '../request-attributes.ts';
import {
  accepted,
  batchInput,
  batchQuery,
  batchView,
  runView,
  signalInput,
  submitQuery,
} from '../schemas.ts';
import { type SseOptions, streamHead, streamRun } from '../sse.ts';

// The public signal API: submit (wait or not), look up by id, batches of requests, and the neurons.
// With client keys configured every route here needs one.

export interface SignalRoutesOptions {
  readonly engine: Engine;
  readonly store: RunStore;
  /** Client keys; empty: the signal API is open. */
  readonly clients: Credentials;
  /** A request authenticated as this client (logs and metrics carry the name, never the key). */
  readonly onClient: (name: string) => void;
  /** A batch item refused (queue full, draining, …), as sendError tells a refused request's code. */
  readonly onRefused: (code: ErrorCode) => void;
  readonly sse: SseOptions;
}

type SignalBody = {
  content: string;
  neuron?: string;
  layer?: SubmitInput['layer'];
  metadata?: Record<string, string>;
};

const publicView = (v: RunView) => ({
  id: v.id,
  traceId: v.traceId,
  status: v.status,
  results: v.results,
  trace: v.trace,
  errors: v.errors,
  durationMs: v.durationMs,
  ...(v.usage ? { usage: v.usage } : {}),
  ...(v.costUsd !== undefined ? { costUsd: v.costUsd } : {}),
});

export async function signalRoutes(
  app: FastifyInstance,
  { engine, store, clients, onClient, onRefused, sse }: SignalRoutesOptions,
) {
  // The client key each request came with: its kept runs are that client's share of the store.
  const clientOf = new WeakMap<FastifyRequest, string>();
  if (clients.size > 0) {
    app.addHook(
      'onRequest',
      bearerGuard(clients, 'hal9', (req, name) => {
        req.log = req.log.child({ client: name });
        clientOf.set(req, name);
        onClient(name);
      }),
    );
  }
  app.get('/v1/neurons', async () => ({ entry: engine.entry.id, neurons: engine.neurons() }));

  // Traced: the request span carries the HTTP request's attributes, and the status of the answer when
  // it is known at the start (202 for ?wait=false, a stream's 200) or is its outcome's (a waiting
  // caller's). A batch's items share one answer: their spans carry no status of their own.
  // Nothing is built per request with tracing off (the hot path).
  const httpOf = (req: FastifyRequest, answer: 'outcome' | 202 | 200 | undefined) =>
    engine.tracing.enabled ? spanHttp(req, answer) : undefined;

  const submit = (
    req: FastifyRequest,
    body: SignalBody,
    timeoutMs: number | undefined,
    http: SubmitInput['http'],
  ) => {
    const traceparent = req.headers.traceparent as string | undefined;
    // Node joins repeated tracestate headers with ", ", as W3C Trace Context combines them.
    const tracestate = req.headers.tracestate as string | undefined;
    return engine.submit({
      content: body.content,
      ...(body.neuron ? { neuron: body.neuron } : {}),
      ...(body.layer ? { layer: body.layer } : {}),
      ...(body.metadata ? { metadata: body.metadata } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
      ...(traceparent ? { traceparent } : {}),
      ...(tracestate ? { tracestate } : {}),
      http,
    });
  };

  const replyView = (reply: FastifyReply, view: RunView) => {
    const s = runStatus(view);
    if (s.retryAfter) reply.header('retry-after', String(s.retryAfter));
    if (s.close) reply.header('connection', 'close');
    return reply.code(s.code).send(publicView(view));
  };

  app.post<{
    Body: SignalBody;
    Querystring: { wait?: 'true' | 'false'; stream?: 'true' | 'false'; timeout_ms?: string };
  }>(
    '/v1/signals',
    { schema: { body: signalInput, querystring: submitQuery, response: { 200: runView, 202: accepted } } },
    async (req, reply) => {
      // A stream waits for the result by its nature: asking for both is asking for two answers.
      if (req.query.stream === 'true' && req.query.wait === 'false')
        throw new Hal9Error(
          'INVALID_REQUEST',
          'querystring.stream=true and wait=false cannot be combined: a stream answers at once and then sends the result, wait=false only an id to come back for; send one of them',
          { field: 'wait' },
        );
      const run = submit(
        req,
        req.body,
        req.query.timeout_ms ? Number(req.query.timeout_ms) : undefined,
        httpOf(req, req.query.stream === 'true' ? 200 : req.query.wait === 'false' ? 202 : 'outcome'),
      );
      // Its trace (W3C traceresponse), however it is answered: a stream's head carries it too (sse.ts).
      sendTrace(reply, run);
      if (req.query.stream === 'true') {
        // Kept by id like ?wait=false, so a client that loses the stream can resume it, or cancel it:
        // its head names it as the 202's does (streamRun's writeHead keeps a header set before).
        store.add(run, clientOf.get(req));
        reply.hijack();
        reply.raw.setHeader('location', `/v1/signals/${run.id}`);
        streamRun(reply.raw, run, 0, sse, () => store.delivered(run.id));
        return reply;
      }
      if (req.query.wait === 'false') {
        // Only requests whose caller will come back by id are kept: a waiting caller gets the result
        // in the response, and retaining every one of those is what made GC pauses the latency tail.
        store.add(run, clientOf.get(req));
        return reply
          .code(202)
          .header('location', `/v1/signals/${run.id}`)
          .send({ id: run.id, traceId: run.traceId, status: run.status });
      }
      cancelWhenCallerLeaves(reply, [run]);
      return replyView(reply, await run.done);
    },
  );

  /** A request kept by id, for the client that sent it: another client's is unknown to it, as a wrong id is. */
  const keptRun = (req: FastifyRequest, id: string): RequestRun => {
    const owner = clientOf.get(req) ?? '';
    const run = store.run(id, owner);
    if (!run) throw store.notFound(id, owner);
    return run;
  };

  app.get<{ Params: { id: string } }>('/v1/signals/:id', async (req, reply) => {
    const run = keptRun(req, req.params.id);
    sendTrace(reply, run);
    const view = run.view();
    // Its caller now knows how it ended: a draining runtime need not wait for this one any more. A
    // HEAD (fastify answers it with this handler) reads no result: it counts for nothing.
    if (view.status !== 'running' && req.method !== 'HEAD') store.delivered(view.id);
    return reply.send(publicView(view));
  });

  // Cancels a request kept by id (?wait=false, ?stream=true): its model and peer calls stop and its
  // slots and permits go to others at once, as when a waiting caller leaves. A stream's caller that
  // closes the connection does not cancel (it may come back with Last-Event-ID); this does. Answers
  // how the request ended; one that had ended already is answered as it is.
  app.delete<{ Params: { id: string } }>('/v1/signals/:id', async (req, reply) => {
    const run = keptRun(req, req.params.id);
    sendTrace(reply, run);
    run.timeOut(
      new Hal9Error('CANCELLED', `the request was cancelled by DELETE /v1/signals/${run.id}`, {
        field: 'id',
      }),
    );
    const view = await run.done;
    store.delivered(view.id);
    return reply.send(publicView(view));
  });

  app.get<{ Params: { id: string } }>('/v1/signals/:id/events', async (req, reply) => {
    const run = keptRun(req, req.params.id);
    // Not a list header: Node joins repeated ones with ", " (refused below).
    const header = req.headers['last-event-id'] as string | undefined;
    // This stream's ids are whole numbers: anything else names no event of it, and a replay from the
    // start would send again what the client may have had.
    if (header !== undefined && header !== '' && !/^[0-9]{1,15}$/.test(header))
      throw new Hal9Error(
        'INVALID_REQUEST',
        `Last-Event-ID ${clip(header, 40)} is not an event id of this stream (a whole number)`,
        { field: 'last-event-id' },
      );
    const last = header ? Number(header) : 0;
    // An id this request has not reached names events it never sent (another request's stream, a
    // client's bug): streaming from there would send events the client claims to have, and a 204
    // would tell it that it has them all.
    if (last > run.lastEventId)
      throw new Hal9Error(
        'INVALID_REQUEST',
        `Last-Event-ID ${last} is past this request's latest event (${run.lastEventId})`,
        { field: 'last-event-id' },
      );
    // An ended run whose events the client all has (an EventSource reconnects after every stream
    // end, sending the `end` event's id): 204 tells it to stop, where a stream would stay open,
    // with nothing left to send, until the client gave up.
    if (!run.running && last === run.lastEventId) {
      if (req.method !== 'HEAD') store.delivered(run.id);
      return reply.code(204).send();
    }
    // Events the request no longer keeps: an error answer, not a stream that says so and ends, which
    // an EventSource would reconnect to every second with the same id (it gives up on a status other
    // than 200). A reader that falls this far behind while streaming gets the `error` event instead,
    // and this answer when it reconnects.
    if (last < run.lastEventId && run.event(last + 1) === undefined)
      throw new Hal9Error(
        'EVENTS_EXPIRED',
        `events after ${last} are no longer kept (a request keeps its latest ${MAX_RECORDED_EVENTS}); GET /v1/signals/${run.id} reads the request whole`,
        { field: 'last-event-id' },
      );
    // A HEAD gets the stream's head only: streaming a body nobody reads would hold the connection
    // until the run ends, and count the events as read.
    if (req.method === 'HEAD') {
      // Not its connection header: a HEAD's connection is the server's to keep or close (a drain).
      const { connection: _kept, ...head } = streamHead(run);
      return reply.code(200).headers(head).send();
    }
    reply.hijack();
    streamRun(reply.raw, run, last, sse, () => store.delivered(run.id));
    return reply;
  });

  app.post<{ Body: { signals: SignalBody[] }; Querystring: { timeout_ms?: string } }>(
    '/v1/signals/batch',
    { schema: { body: batchInput, querystring: batchQuery, response: { 200: batchView } } },
    async (req, reply) => {
      const timeoutMs = req.query.timeout_ms ? Number(req.query.timeout_ms) : undefined;
      const runs: RequestRun[] = [];
      const http = httpOf(req, undefined);
      const pending = req.body.signals.map((s): Promise<BatchItem> => {
        try {
          const run = submit(req, s, timeoutMs, http);
          runs.push(run);
          return run.done.then((view) => ({ view }));
        } catch (e) {
          return Promise.resolve({ refused: toHal9Error(e) });
        }
      });
      cancelWhenCallerLeaves(reply, runs);
      const items = await Promise.all(pending);
      // Each item is a request of its own: a refused one counts as a refusal, once its answer can go.
      if (answerable(reply)) for (const i of items) if ('refused' in i) onRefused(i.refused.code);
      const s = batchStatus(items);
      if (s.retryAfter !== undefined) reply.header('retry-after', String(s.retryAfter));
      if (s.close) reply.header('connection', 'close');
      return reply
        .code(s.code)
        .send({ results: items.map((i) => ('refused' in i ? errorBody(i.refused) : publicView(i.view))) });
    },
  );
}

/**
 * The status a waiting caller's answer has (replyView's), or, when the caller ended the request itself
 * (it left), its end's code's (499, CLIENT_CLOSED): an answer never sent, which is the caller's doing,
 * not a deadline's 504.
 */
const outcomeStatus = (view: RunView): number => {
  const end = endError(view);
  return view.status === 'timed_out' && (end?.code === 'CLIENT_CLOSED' || end?.code === 'CANCELLED')
    ? ErrorCodes[end.code].status
    : runStatus(view).code;
};

function spanHttp(req: FastifyRequest, answer: 'outcome' | 202 | 200 | undefined): SubmitInput['http'] {
  const attributes = requestAttributes(req);
  if (answer === 'outcome') return { attributes, answer: outcomeStatus };
  return answer ? { attributes, answer } : { attributes };
}

/** A request's trace (W3C traceresponse): its POST, its reads by id and its streams name the same span. */
function sendTrace(reply: FastifyReply, run: RequestRun): void {
  const header = run.span?.traceresponse();
  if (header) reply.header('traceresponse', header);
}
