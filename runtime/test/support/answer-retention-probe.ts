// Run as its own process (node --expose-gc answer-retention-probe.ts [variant]): requests with a new
// content each through a runtime in api mode (the real SDK, a fake Messages API in this process),
// whose model answers carry 1 MiB that is not what the runtime keeps. Prints, as one JSON line, how
// much the heap grew over them once collected: what a request leaves behind (L2's cached answer, its
// stored results) must hold no piece that keeps the whole text alive.
//   (none)  L3 answers 1 MiB of text before a short CONTENT for L2;
//   echo    the same, its CONTENT the very content L3 was given;
//   stop    L2's answer has a `stop_reason` of 1 MiB;
//   padded  L2's answer is a short RESULT in 1 MiB of whitespace.
import { parseConfig } from '../../src/config/parse.ts';
import { createRuntime } from '../../src/runtime.ts';
import { message, promptOf, type Reply, startFakeMessagesApi } from './fake-messages-api.ts';

const variant = process.argv[2] ?? '';
const REQUESTS = 40;
const MIB = 1 << 20;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const l3 = (user: string): Reply =>
  variant === '' || variant === 'echo'
    ? message(
        `${'x'.repeat(MIB)}\nFORWARD_TO: impl\nCONTENT: ${variant === 'echo' ? user : `implement ${user}`}`,
      )
    : message(`FORWARD_TO: impl\nCONTENT: implement ${user}`);
const l2 = (user: string): Reply => {
  const result = `RESULT: done with ${user}`;
  if (variant === 'stop') return { kind: 'message', text: result, stopReason: 'z'.repeat(MIB) };
  if (variant === 'padded') return message(`${' '.repeat(MIB)}${result}${' '.repeat(16)}`);
  return message(result);
};
const fake = await startFakeMessagesApi();
fake.respond((req) => {
  const { system, user } = promptOf(req);
  return system === 'design' ? l3(user) : l2(user);
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
