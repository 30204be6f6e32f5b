// A local Messages API stand-in under contention: each answer takes BASE_MS + PER_INFLIGHT_MS × (calls in
// flight), and past MAX_RPS calls in the last second it answers 429 with retry-after.
import http from 'node:http';

const BASE_MS = Number(process.env.BASE_MS ?? 10);
const PER_INFLIGHT_MS = Number(process.env.PER_INFLIGHT_MS ?? 0.5);
const MAX_RPS = Number(process.env.MAX_RPS ?? 2500);

let inflight = 0;
const recent: number[] = [];
const ok = JSON.stringify({
  id: 'msg_contended',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-5-5',
  content: [{ type: 'text', text: 'RESULT: done' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
});
const throttled = JSON.stringify({
  type: 'error',
  error: { type: 'rate_limit_error', message: 'rate limited' },
});

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const now = Date.now();
    while (recent.length > 0 && recent[0]! < now - 1000) recent.shift();
    if (recent.length >= MAX_RPS) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end(throttled);
      return;
    }
    recent.push(now);
    inflight++;
    setTimeout(
      () => {
        inflight--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(ok);
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
