// A stand-in OTLP/HTTP collector for the observability bench: it reads and drops every export, so the
// runtime's side of tracing (spans, batching, serialization, the POST) is what gets measured.
import { createServer } from 'node:http';

let spans = 0;
const server = createServer((req, res) => {
  let bytes = 0;
  req.on('data', (c: Buffer) => {
    bytes += c.length;
  });
  req.on('end', () => {
    spans += bytes > 0 ? 1 : 0;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ address: `http://127.0.0.1:${port}` })}\n`);
});
process.once('SIGTERM', () => {
  process.stderr.write(`otlp sink: ${spans} exports\n`);
  server.close(() => process.exit(0));
});
