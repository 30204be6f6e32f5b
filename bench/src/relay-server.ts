// The floor of a pod-to-pod forward in Node: a bare fastify route that sends the body it got on to
// UPSTREAM (a URL) through an undici pool and answers with the upstream's answer as it came. No
// pipeline, batching, validation, peer token or trace. Two of them in front of the bare echo are
// three Node processes in series, the shape of three pods: the pods rows are read against them.
import Fastify from 'fastify';
import { Pool } from 'undici';

const upstream = new URL(process.env.UPSTREAM ?? '');
const pool = new Pool(upstream.origin, { connections: 64 });

const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
app.post('/relay', async (req, reply) => {
  const res = await pool.request({
    path: upstream.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: req.body as string,
  });
  reply.code(res.statusCode).type('application/json');
  return res.body.text();
});
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`${JSON.stringify({ address })}\n`);
process.once('SIGTERM', () => void app.close().then(() => pool.close().then(() => process.exit(0))));
