import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// A local fake of the Anthropic Messages API (HTTP on 127.0.0.1, random port) for tests of the `api`
// mode with the real SDK. It records every request and the TCP connections it accepted, and answers
// from a per-test script: queued replies first (in order), then the default responder.

export interface Usage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens: number;
  readonly cache_read_input_tokens: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body, inspected freely by tests. */
  readonly body: any;
  /** 1-based number of the TCP connection the request arrived on. */
  readonly connection: number;
}

interface Timing {
  /** Wait this long before answering. */
  readonly delayMs?: number;
  /** Wait until this settles before answering (a gate the test opens). */
  readonly until?: Promise<unknown>;
}

export type Reply = Timing &
  (
    | {
        readonly kind: 'message';
        readonly text: string;
        readonly usage?: Partial<Usage>;
        /** Default end_turn. */
        /** null: the answer gives none (a cut or broken proxy's answer). */
        readonly stopReason?: string | null;
      }
    | {
        readonly kind: 'error';
        readonly status: number;
        readonly type: string;
        readonly message: string;
        readonly headers?: Readonly<Record<string, string>>;
      }
    /** Never answer (the client's timeout must end the call). */
    | { readonly kind: 'hang' }
    /** Destroy the socket without an answer. */
    | { readonly kind: 'reset' }
    /** Send a 200's headers and the start of its body, then destroy the socket. */
    | { readonly kind: 'brokenOff' }
    /** Write these bytes on the socket as the whole answer (not valid HTTP), then end it. */
    | { readonly kind: 'garbled'; readonly bytes: string }
    /** A 200 JSON answer with exactly this body (a malformed or crafted Messages answer). */
    | { readonly kind: 'raw'; readonly body: unknown }
    /** An answer of exactly this text with this content-type (not JSON, or not said to be); 200 unless given. */
    | {
        readonly kind: 'text';
        readonly body: string;
        readonly contentType: string;
        readonly status?: number;
      }
  );

export type Responder = (req: RecordedRequest) => Reply;

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'api_error',
  529: 'overloaded_error',
};

/** A successful answer with the given text and token usage. */
export const message = (text: string, usage: Partial<Usage> = {}, timing: Timing = {}): Reply => ({
  kind: 'message',
  text,
  usage,
  ...timing,
});

/** An Anthropic error answer (`{"type":"error","error":{type,message}}`) with optional retry hints. */
export const apiError = (
  status: number,
  o: { retryAfter?: string; retryAfterMs?: string; message?: string } & Timing = {},
): Reply => ({
  kind: 'error',
  status,
  type: ERROR_TYPES[status] ?? 'api_error',
  message: o.message ?? `fake error ${status}`,
  headers: {
    ...(o.retryAfter !== undefined ? { 'retry-after': o.retryAfter } : {}),
    ...(o.retryAfterMs !== undefined ? { 'retry-after-ms': o.retryAfterMs } : {}),
  },
  ...(o.delayMs !== undefined ? { delayMs: o.delayMs } : {}),
  ...(o.until ? { until: o.until } : {}),
});

/** An answer the model did not finish: cut off at max_tokens (or another stop reason). */
export const cutOffMessage = (
  text: string,
  stopReason: string | null = 'max_tokens',
  usage: Partial<Usage> = {},
): Reply => ({
  kind: 'message',
  text,
  usage,
  stopReason,
});

export const hang = (): Reply => ({ kind: 'hang' });
export const raw = (body: unknown): Reply => ({ kind: 'raw', body });
export const text = (body: string, contentType: string, status?: number): Reply => ({
  kind: 'text',
  body,
  contentType,
  ...(status !== undefined ? { status } : {}),
});
export const reset = (timing: Timing = {}): Reply => ({ kind: 'reset', ...timing });
export const brokenOff = (): Reply => ({ kind: 'brokenOff' });
export const garbled = (bytes: string): Reply => ({ kind: 'garbled', bytes });

/** A promise the test resolves when it chooses (to hold answers back). */
export function gate(): { readonly promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

export interface FakeMessagesApi {
  /** Base URL for `claude.base_url`. */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** The most requests that were being answered at the same time. */
  readonly maxInFlight: number;
  readonly inFlight: number;
  /** Queues replies for the next requests, in order. */
  script(...replies: Reply[]): void;
  /** Answers requests once the script is used up (default: `message('RESULT: ok')`). */
  respond(r: Reply | Responder): void;
  close(): Promise<void>;
}

export async function startFakeMessagesApi(): Promise<FakeMessagesApi> {
  const requests: RecordedRequest[] = [];
  const queue: Reply[] = [];
  const sockets = new Set<Socket>();
  const connectionNo = new WeakMap<Socket, number>();
  let responder: Responder = () => message('RESULT: ok');
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let msgNo = 0;

  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        connection: connectionNo.get(req.socket) ?? 0,
      };
      requests.push(recorded);
      const reply = queue.shift() ?? responder(recorded);
      void answer(res, reply, recorded);
    });
  });
  server.on('connection', (s: Socket) => {
    connections++;
    connectionNo.set(s, connections);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const answer = async (res: ServerResponse, reply: Reply, req: RecordedRequest) => {
    if (reply.kind === 'hang') return;
    if (reply.until) await reply.until;
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (res.destroyed) return;
    if (reply.kind === 'reset') {
      res.socket?.destroy();
      return;
    }
    if (reply.kind === 'garbled') {
      res.socket?.end(reply.bytes);
      return;
    }
    if (reply.kind === 'brokenOff') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"id":"msg_cut","type":"message","content":[{"type":"text","text":"RESULT: par', () =>
        setTimeout(() => res.socket?.destroy(), 20),
      );
      return;
    }
    const requestId = `req_fake_${requests.indexOf(req) + 1}`;
    if (reply.kind === 'text') {
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType, 'request-id': requestId });
      res.end(reply.body);
      return;
    }
    if (reply.kind === 'raw') {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId });
      res.end(JSON.stringify(reply.body));
      return;
    }
    if (reply.kind === 'error') {
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        'request-id': requestId,
        ...reply.headers,
      });
      res.end(JSON.stringify({ type: 'error', error: { type: reply.type, message: reply.message } }));
      return;
    }
    const usage: Usage = {
      input_tokens: 10,
      output_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      ...reply.usage,
    };
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId });
    res.end(
      JSON.stringify({
        id: `msg_fake_${++msgNo}`,
        type: 'message',
        role: 'assistant',
        model: req.body?.model ?? 'fake',
        content: [{ type: 'text', text: reply.text }],
        stop_reason: reply.stopReason === undefined ? 'end_turn' : reply.stopReason,
        stop_sequence: null,
        usage,
      }),
    );
  };

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get inFlight() {
      return inFlight;
    },
    script: (...replies) => {
      queue.push(...replies);
    },
    respond: (r) => {
      responder = typeof r === 'function' ? r : () => r;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The text of the system prompt block and of the user message of a recorded request. */
export const promptOf = (req: RecordedRequest): { system: string; user: string } => ({
  system: req.body?.system?.[0]?.text ?? '',
  user:
    typeof req.body?.messages?.[0]?.content === 'string'
      ? req.body.messages[0].content
      : (req.body?.messages?.[0]?.content?.[0]?.text ?? ''),
});

type Doc = Record<string, unknown>;

/**
 * A runtime config document in `api` mode against the fake; `claude` and `performance` are merged
 * over small test defaults (cache off unless asked, SDK retries off).
 */
export const apiDoc = (
  fake: Pick<FakeMessagesApi, 'url'>,
  o: { neurons?: Doc[]; claude?: Doc; performance?: Doc; [k: string]: unknown } = {},
): Doc => {
  const { claude, performance, ...rest } = o;
  return {
    ...rest,
    claude: {
      mode: 'api',
      base_url: fake.url,
      model: 'claude-test-1',
      max_tokens: 64,
      max_retries: 0,
      ...claude,
    },
    performance: { cache_layers: [], ...performance },
  };
};
