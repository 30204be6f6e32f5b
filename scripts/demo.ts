// Starts the runtime standalone (embedded default: L4 → L3 → L2, mock mode), sends one signal
// through it, prints the request's results and trace, and stops it with SIGTERM.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RUNTIME_V8_FLAGS } from '../runtime/src/node-options.ts';

const main = fileURLToPath(new URL('../runtime/src/main.ts', import.meta.url));
const port = process.env.PORT ?? '8080';
// As `npm start` runs it: with the runtime's V8 flags.
const child = spawn(process.execPath, [...RUNTIME_V8_FLAGS, main], {
  env: { ...process.env, PORT: port, HOST: '127.0.0.1' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let log = '';
const address = await new Promise<string>((resolve, reject) => {
  child.stdout.on('data', (d: Buffer) => {
    log += d;
    process.stdout.write(d);
    const m = /"address":"(http:\/\/[^"]+)"/.exec(log);
    if (m) resolve(m[1]!);
  });
  // The runtime has said why on stderr (a port in use, a bad config): exit with its code, no trace.
  child.once('exit', (code) => {
    process.exitCode = code ?? 1;
    reject(new Error(`runtime exited with ${code}`));
  });
}).catch((): never => process.exit());

const content = process.argv[2] ?? 'Build a REST API for a todo app';
console.log(
  `\n$ curl -s -X POST ${address}/v1/signals -H 'content-type: application/json' -d '${JSON.stringify({ content })}'`,
);
const res = await fetch(`${address}/v1/signals`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ content }),
});
const body = (await res.json()) as {
  status: string;
  durationMs: number;
  results: { neuron: string; layer: string; content: string }[];
  trace: { neuron: string; layer: string; hop: number; durationMs: number; forwardedTo: string[] }[];
};
console.log(JSON.stringify(body, null, 2));
console.log(`\nHTTP ${res.status}: ${body.status} in ${body.durationMs} ms`);
for (const t of body.trace) {
  console.log(
    `  hop ${t.hop}  ${t.layer} ${t.neuron.padEnd(12)} ${t.durationMs.toFixed(3)} ms  → ${t.forwardedTo.join(', ') || '(result)'}`,
  );
}
for (const r of body.results) console.log(`  RESULT from ${r.neuron} (${r.layer}): ${r.content}`);

child.kill('SIGTERM');
const code = await new Promise<number | null>((r) => child.once('exit', r));
process.exit(res.ok && code === 0 ? 0 : 1);
