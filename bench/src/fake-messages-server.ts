// A local stand-in for the Messages API (the one fake we accept: there is no internet here).
// It answers at once (or after DELAY_MS, as a model that takes time would); the answer routes by the layer named in the system prompt so the default
// topology flows L4 → L3 → L2. `GET /count` tells how many messages it has answered, so a bench can
// check every hop reached it (no cache hit hiding a call); `GET /last` shows the last request's
// headers and body, so a reference can send exactly what the runtime's client sent.
import http from 'node:http';

const reply = (text: string) =>
  JSON.stringify({
    id: 'msg_bench',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-5-5',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 8, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  });
const L4 = reply('FORWARD_TO: design-1\nCONTENT: strategy');
const L3 = reply('FORWARD_TO: impl-1\nCONTENT: design');
const L2 = reply('RESULT: implemented');
const delayMs = Number(process.env.DELAY_MS ?? 0);
let answered = 0;
let last: { headers: http.IncomingHttpHeaders; body: string } = { headers: {}, body: '' };

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/last' ? last : { requests: answered }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    last = { headers: req.headers, body };
    const text = body.includes('(L4)') ? L4 : body.includes('(L3)') ? L3 : L2;
    answered++;
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_bench' });
      res.end(text);
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
});
server.keepAliveTimeout = 90_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const a = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ address: `http://127.0.0.1:${a.port}` })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
