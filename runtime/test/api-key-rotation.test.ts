import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { secretFileReload } from '../src/config/secret-reload.ts';
import {
  apiDoc,
  apiError,
  type FakeMessagesApi,
  gate,
  promptOf,
  type RecordedRequest,
  startFakeMessagesApi,
} from './support/fake-messages-api.ts';
import { neuron, type Started, startRuntime } from './support/runtime.ts';

// A rotated API key file taken up by a running runtime: the pieces main.ts puts on its timer
// (secretFileReload, then runtime.rotateApiKey), driven by hand, against the real SDK and pool and a
// fake Messages API that records the key each call carries. (process.test.ts runs main.ts itself.)

const OLD_KEY = 'sk-ant-old-0123456789abcdef';
const NEW_KEY = 'sk-ant-new-fedcba9876543210';

let fake: FakeMessagesApi | undefined;
let rt: Started | undefined;
let dir: string | undefined;
/** Lets a held upstream answer go, so a failed test does not leave the drain waiting on it. */
let release: (() => void) | undefined;

afterEach(async () => {
  release?.();
  release = undefined;
  await rt?.close();
  await fake?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  rt = undefined;
  fake = undefined;
  dir = undefined;
});

/** The key a recorded call carried (this SDK sends it as a bearer credential). */
const keyOf = (r: RecordedRequest) => r.headers.authorization?.replace(/^Bearer /, '');
const callsFor = (f: FakeMessagesApi, content: string) =>
  f.requests.filter((r) => promptOf(r).user === content);

async function until(what: string, ok: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !ok(); ) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('API key rotation', () => {
  it('sends a rotated key on the calls that start after it, while a call in flight (its SDK retry included) keeps the old one, on the same pooled connections', async () => {
    fake = await startFakeMessagesApi();
    dir = await mkdtemp(join(tmpdir(), 'hal9-key-'));
    const file = join(dir, 'key');
    await writeFile(file, `${OLD_KEY}\n`);
    rt = await startRuntime(
      // One SDK retry, so a call in flight across the rotation makes a second attempt.
      apiDoc(fake, { neurons: [neuron('impl-1', 'L2')], claude: { max_retries: 1 } }),
      { apiKey: OLD_KEY },
    );
    const errors: string[] = [];
    const reload = secretFileReload({
      path: file,
      field: 'claude.api_key_file',
      current: OLD_KEY,
      maxBytes: 1024,
      onError: (m) => errors.push(m),
    });
    const signal = (content: string) => rt!.post('/v1/signals', { content });

    expect((await signal('before')).status).toBe(200);
    // A call whose first attempt is held at the upstream, then fails with a 500 the SDK retries.
    const held = gate();
    release = held.open;
    fake.script(apiError(500, { until: held.promise, retryAfterMs: '0' }));
    const inFlight = signal('in flight');
    await until('the held call reached the upstream', () => callsFor(fake!, 'in flight').length === 1);

    // Rotated the way the kubelet updates a mounted Secret: a new file renamed over the old one.
    await writeFile(join(dir, 'next'), NEW_KEY);
    await rename(join(dir, 'next'), file);
    const key = await reload.check();
    expect(key).toBe(NEW_KEY);
    expect(rt.runtime.rotateApiKey(key!)).toBe(true);

    expect((await signal('after')).status).toBe(200);
    held.open();
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    expect(finished.body.results[0].content).toBe('ok');
    expect((await signal('later')).status).toBe(200);

    expect(callsFor(fake, 'before').map(keyOf)).toEqual([OLD_KEY]);
    expect(callsFor(fake, 'in flight').map(keyOf)).toEqual([OLD_KEY, OLD_KEY]);
    expect(callsFor(fake, 'after').map(keyOf)).toEqual([NEW_KEY]);
    expect(callsFor(fake, 'later').map(keyOf)).toEqual([NEW_KEY]);
    // The new client shares the pool: two connections (the held call's, and the one the call
    // beside it opened), reused by every call after.
    expect(fake.connections).toBe(2);
    expect(errors).toEqual([]);
  });

  it('keeps the last key through a file emptied, removed or oversized mid-rotation, reporting each failure once', async () => {
    fake = await startFakeMessagesApi();
    dir = await mkdtemp(join(tmpdir(), 'hal9-key-'));
    const file = join(dir, 'key');
    await writeFile(file, OLD_KEY);
    rt = await startRuntime(apiDoc(fake, { neurons: [neuron('impl-1', 'L2')] }), { apiKey: OLD_KEY });
    const errors: string[] = [];
    const reload = secretFileReload({
      path: file,
      field: 'claude.api_key_file',
      current: OLD_KEY,
      maxBytes: 64,
      onError: (m) => errors.push(m),
    });
    // What main.ts's timer does on each tick.
    const tick = async () => {
      const key = await reload.check();
      if (key !== undefined) rt!.runtime.rotateApiKey(key);
    };
    const lastKey = async (content: string) => {
      expect((await rt!.post('/v1/signals', { content })).status).toBe(200);
      return keyOf(fake!.requests.at(-1)!);
    };

    for (const broken of ['\n', 'x'.repeat(65)]) {
      await writeFile(file, broken);
      await tick();
      await tick();
    }
    await rm(file);
    await tick();
    expect(await lastKey('through broken files')).toBe(OLD_KEY);
    expect(errors).toEqual([
      expect.stringContaining('is empty'),
      expect.stringContaining('over 64 bytes'),
      expect.stringContaining('cannot read'),
    ]);
    for (const e of errors) expect(e).toContain('claude.api_key_file');

    await writeFile(file, NEW_KEY);
    await tick();
    expect(await lastKey('after the fix')).toBe(NEW_KEY);
    await writeFile(file, '');
    await tick();
    expect(await lastKey('emptied again')).toBe(NEW_KEY);
    expect(errors.join('\n')).not.toContain(NEW_KEY.slice(-8));
  });

  it('has no key to rotate in mock mode', async () => {
    rt = await startRuntime({ neurons: [neuron('impl-1', 'L2')] });
    expect(rt.runtime.rotateApiKey(NEW_KEY)).toBe(false);
  });
});
