// The floor of a hop in Node: a bare fastify route that sends the request it got on to the Messages
// API (UPSTREAM, the local fake) through an undici pool, reads the answer's JSON and replies with its
// text. No SDK, no pipeline. What it adds over a raw POST to the fake is what any one-event-loop
// HTTP hop in front of the API costs on this machine; `api` rows set the runtime beside it.
import Fastify from 'fastify';
import { Pool } from 'undici';

const upstream = new URL(process.env.UPSTREAM ?? '');
const pool = new Pool(upstream.origin, { connections: 64 });
const FORWARDED = ['authorization', 'x-api-key', 'anthropic-version', 'content-type'];

const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
app.post('/v1/messages', async (req) => {
  const headers: Record<string, string> = {};
  for (const h of FORWARDED) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const res = await pool.request({ path: '/v1/messages', method: 'POST', headers, body: req.body as string });
  const answer = (await res.body.json()) as { content: { type: string; text?: string }[] };
  return { content: answer.content.map((b) => b.text ?? '').join('') };
});
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`${JSON.stringify({ address })}\n`);
process.once('SIGTERM', () => void app.close().then(() => pool.close().then(() => process.exit(0))));
