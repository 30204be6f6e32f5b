import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RUNTIME_V8_FLAGS } from '../src/node-options.ts';
import { debuggedOrProfiled, missingV8Flags } from '../src/relaunch.ts';
import { type RuntimeProcess, spawnRuntime } from './support/process.ts';
import { neuron } from './support/runtime.ts';

// `node runtime/src/main.ts` without the runtime's V8 flags runs the runtime as its child with them
// (relaunch.ts): the process that serves is the one the log names, with the flags on its command line.

const doc = { neurons: [neuron('solo', 'L2')] };
const running: RuntimeProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop('SIGKILL')));
});

/** The pid of the process that logged that it listens. */
const servingPid = (out: string): number => {
  const line = out.split('\n').find((l) => l.includes('hal9 runtime listening'))!;
  return (JSON.parse(line) as { pid: number }).pid;
};
const alive = (pid: number): boolean => {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return true;
  } catch {
    return false;
  }
};
const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a runtime started without its V8 flags', () => {
  it('serves from a child that has them; SIGTERM drains it, and the parent exits as it does', async () => {
    const rt = await spawnRuntime(doc, {}, { withoutFlags: true });
    running.push(rt);
    const pid = servingPid(rt.output());
    expect(pid).not.toBe(rt.child.pid);
    expect(cmdline(pid)).toEqual(expect.arrayContaining([...RUNTIME_V8_FLAGS]));
    const res = await fetch(`${rt.url}/v1/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'hello' }),
    });
    expect(res.status).toBe(200);
    expect(await rt.stop('SIGTERM')).toBe(0);
    expect(rt.output()).toContain('"msg":"stopped"');
    expect(alive(pid)).toBe(false);
  });

  it('drains and exits when its parent is killed outright, freeing its port', async () => {
    const rt = await spawnRuntime(doc, {}, { withoutFlags: true });
    running.push(rt);
    const pid = servingPid(rt.output());
    rt.child.kill('SIGKILL');
    await until('the child to exit', () => !alive(pid));
    await expect(fetch(`${rt.url}/healthz`)).rejects.toThrow();
  });
});

describe('missingV8Flags', () => {
  it.each<[string, string[], string | undefined, string[]]>([
    ['none given', [], undefined, [...RUNTIME_V8_FLAGS]],
    ['in the arguments', [...RUNTIME_V8_FLAGS], undefined, []],
    ['in NODE_OPTIONS', [], `--enable-source-maps ${RUNTIME_V8_FLAGS.join(' ')}`, []],
    ['another value of the caller’s own', ['--max-semi-space-size=4'], undefined, []],
    ['written with underscores', ['--max_semi_space_size=8'], undefined, []],
    ['quoted in NODE_OPTIONS', [], '"--max-semi-space-size=4"', []],
    ['other flags only', ['--enable-source-maps'], '--trace-warnings', [...RUNTIME_V8_FLAGS]],
  ])('%s', (_, execArgv, nodeOptions, missing) => {
    expect(missingV8Flags(execArgv, nodeOptions)).toEqual(missing);
  });
});

describe('debuggedOrProfiled', () => {
  it.each<[string[], string | undefined, boolean]>([
    [['--inspect=127.0.0.1:9229'], undefined, true],
    [[], '--inspect-brk', true],
    [['--cpu-prof'], undefined, true],
    [[], '"--heap-prof"', true],
    [['--prof'], undefined, true],
    [['--max-semi-space-size=16'], '--enable-source-maps', false],
    [['--profile-something'], undefined, false],
  ])('%j with NODE_OPTIONS %j: %s', (execArgv, nodeOptions, debugged) => {
    expect(debuggedOrProfiled(execArgv, nodeOptions)).toBe(debugged);
  });
});
