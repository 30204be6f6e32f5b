// Run as its own process (node --expose-gc answer-retention-probe.ts [echo]): requests whose L3 answer
// is 1 MiB of text before a short CONTENT for L2 (with `echo`, the very content L3 was given), each
// with a new content, through a runtime in api mode
// (the real SDK, a fake Messages API in this process). Prints, as one JSON line, how much the heap
// grew over them once collected: what a request leaves behind (L2's cached answer, its stored
// results) must not keep its parent's whole answer alive.
import { parseConfig } from '../../src/config/parse.ts';
import { createRuntime } from '../../src/runtime.ts';
import { message, promptOf, startFakeMessagesApi } from './fake-messages-api.ts';

const echo = process.argv[2] === 'echo';
const REQUESTS = 40;
const PREAMBLE = 'x'.repeat(1 << 20);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const fake = await startFakeMessagesApi();
fake.respond((req) => {
  const { system, user } = promptOf(req);
  return system === 'design'
    ? message(`${PREAMBLE}\nFORWARD_TO: impl\nCONTENT: ${echo ? user : `implement ${user}`}`)
    : message(`RESULT: done ${user.length}`);
});
const rt = await createRuntime(
  parseConfig({
    claude: { mode: 'api', base_url: fake.url, max_retries: 0 },
    neurons: [
      { id: 'design', layer: 'L3', forward_connections: ['impl'], system_prompt: 'design' },
      { id: 'impl', layer: 'L2', system_prompt: 'impl' },
    ],
  }),
  { apiKey: 'sk-probe' },
);
// Long enough (13 characters or more) for V8 to make a piece of the answer a view into it.
const send = (i: number) => rt.engine.submit({ content: `plan number ${i} for the whole team` }).done;
// Warm: the first calls load and compile what later ones reuse.
for (let i = 0; i < 5; i++) await send(-i - 1);
gc();
gc();
const before = process.memoryUsage().heapUsed;
const statuses = new Set<string>();
for (let i = 0; i < REQUESTS; i++) statuses.add((await send(i)).status);
gc();
gc();
const grownPerRequest = (process.memoryUsage().heapUsed - before) / REQUESTS;
await rt.shutdown();
await fake.close();
process.stdout.write(`${JSON.stringify({ grownPerRequest, statuses: [...statuses] })}\n`);
