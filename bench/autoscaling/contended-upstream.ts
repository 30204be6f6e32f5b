// A local Messages API stand-in under contention (its own process): each answer takes
// BASE_MS + PER_INFLIGHT_MS × (calls in flight), so the upstream slows as callers pile on, and past
// MAX_RPS calls in the last second it answers 429 with retry-after. The answer routes by the
// `[route:<target>]` marker in the neuron's system prompt (no marker: a RESULT), so a three-layer
// graph flows L4 → L3 → L2. `POST /control {"maxRps": n}` changes the rate limit (a 429 storm);
// `GET /stats` reports what it answered.
import http from 'node:http';

const BASE_MS = Number(process.env.BASE_MS ?? 100);
const PER_INFLIGHT_MS = Number(process.env.PER_INFLIGHT_MS ?? 0.2);
let maxRps = Number(process.env.MAX_RPS ?? 1000);

let inflight = 0;
let answered = 0;
let throttled = 0;
/** Start times of the calls admitted in the last second (a ring would do; the rates here are small). */
const recent: number[] = [];

const message = (text: string) =>
  JSON.stringify({
    id: 'msg_contended',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-5-5',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  });
const rateLimited = JSON.stringify({
  type: 'error',
  error: { type: 'rate_limit_error', message: 'rate limited' },
});
const answers = new Map<string, string>();
const answerFor = (body: string): string => {
  const target = /\[route:([a-z0-9-]+)\]/.exec(body)?.[1] ?? '';
  let a = answers.get(target);
  if (a === undefined) {
    a = message(target ? `FORWARD_TO: ${target}\nCONTENT: next step` : 'RESULT: done');
    answers.set(target, a);
  }
  return a;
};

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    if (req.method === 'GET' && req.url === '/stats')
      return json(res, 200, { answered, throttled, inflight, maxRps });
    if (req.method === 'POST' && req.url === '/control') {
      const n = Number((JSON.parse(body || '{}') as { maxRps?: unknown }).maxRps);
      if (!Number.isFinite(n) || n < 0) return json(res, 400, { error: 'maxRps must be a number ≥ 0' });
      maxRps = n;
      return json(res, 200, { maxRps });
    }
    const now = Date.now();
    while (recent.length > 0 && recent[0]! <= now - 1000) recent.shift();
    if (recent.length >= maxRps) {
      throttled++;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(rateLimited);
      return;
    }
    recent.push(now);
    inflight++;
    const answer = answerFor(body);
    setTimeout(
      () => {
        inflight--;
        answered++;
        res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_contended' });
        res.end(answer);
      },
      BASE_MS + PER_INFLIGHT_MS * inflight,
    );
  });
});
server.keepAliveTimeout = 90_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ address: `http://127.0.0.1:${a.port}` })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
