import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Fills NODE_COMPILE_CACHE when the image is built (runtime/Dockerfile): starts the runtime as a pod
// does (`node runtime/dist/main.js`, the entry given as the first argument; `./main.ts` beside this
// file without one), once in mock mode and once in api mode against a Messages API answered here on
// loopback, sends one signal through each and stops it with SIGTERM, so the functions compiled on
// first use (the logger, the SDK's request path, the drain) are cached too. Each child writes the
// cache as it exits. A composition root: run directly, never imported.

const MAIN = process.argv[2]
  ? resolve(process.argv[2])
  : fileURLToPath(new URL('./main.ts', import.meta.url));

const MESSAGE = JSON.stringify({
  id: 'msg_warmup',
  type: 'message',
  role: 'assistant',
  model: 'claude-warmup',
  content: [{ type: 'text', text: 'RESULT: warm' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 1, output_tokens: 1 },
});

async function startAndStop(env: Readonly<Record<string, string>>): Promise<void> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`runtime exited with ${code} before listening:\n${out}`)));
  });
  const res = await fetch(`${url}/v1/signals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ content: 'warm up' }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`warm-up signal answered ${res.status}`);
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) throw new Error(`runtime exited with ${code} after SIGTERM:\n${out}`);
}

const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(MESSAGE));
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const { port } = upstream.address() as AddressInfo;
try {
  await startAndStop({ HAL9_MODE: 'mock' });
  await startAndStop({
    HAL9_MODE: 'api',
    ANTHROPIC_API_KEY: 'warm-up',
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
  });
} finally {
  upstream.close();
}
