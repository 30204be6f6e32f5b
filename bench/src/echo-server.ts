// The reference server for HTTP load: a bare fastify route answering with the body's content (as the
// reference ramp script's echo does).
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/echo', async (req) => ({ content: (req.body as { content?: unknown }).content }));
const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`${JSON.stringify({ address })}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
