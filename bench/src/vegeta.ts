import { execFile } from 'node:child_process';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The load generator: vegeta, a native open-loop generator that runs in its own process, so the
// servers under test never share an event loop (or a core's worth of JIT) with the load. Built once
// from the Go module proxy into a cache outside the repository.

const run = promisify(execFile);
export const VEGETA_VERSION = 'v12.13.0';
const BIN_DIR = join(homedir(), '.cache', 'hal9', 'bin', `vegeta-${VEGETA_VERSION}`);
export const VEGETA = join(BIN_DIR, 'vegeta');

/** The cached binary's path; builds it with `go install` when missing (about a minute, once). */
export async function ensureVegeta(log: (s: string) => void = () => {}): Promise<string> {
  try {
    await access(VEGETA);
    return VEGETA;
  } catch {}
  await mkdir(BIN_DIR, { recursive: true });
  log(`building vegeta ${VEGETA_VERSION} from the Go module proxy into ${BIN_DIR} ...`);
  await run('go', ['install', `github.com/tsenart/vegeta/v12@${VEGETA_VERSION}`], {
    env: { ...process.env, GOBIN: BIN_DIR, GOFLAGS: '-modcacherw -buildvcs=false' },
    timeout: 600_000,
  });
  await access(VEGETA);
  return VEGETA;
}

export interface Target {
  readonly url: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Writes a vegeta targets file (http format) with its body file beside it. */
export async function writeTarget(dir: string, name: string, t: Target): Promise<string> {
  const bodyFile = join(dir, `${name}.body`);
  await writeFile(bodyFile, t.body);
  const headers = { 'Content-Type': 'application/json', ...t.headers };
  const lines = [`POST ${t.url}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `@${bodyFile}`];
  const file = join(dir, `${name}.targets`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** A targets file that vegeta walks round-robin: one request to each in turn (each with its own body file). */
export async function writeTargets(dir: string, name: string, ts: readonly Target[]): Promise<string> {
  const parts: string[] = [];
  for (const [i, t] of ts.entries()) {
    const one = await writeTarget(dir, `${name}-${i}`, t);
    parts.push((await readFile(one, 'utf8')).trimEnd());
  }
  const file = join(dir, `${name}.targets`);
  await writeFile(file, `${parts.join('\n\n')}\n`);
  return file;
}

/**
 * A targets file in vegeta's JSON format, one request per body (`-format=json`), walked in order: for
 * a ramp whose every request must bring new content (no cache answers it).
 */
export async function writeJsonTargets(
  file: string,
  t: Omit<Target, 'body'>,
  bodies: Iterable<string>,
): Promise<string> {
  const header = Object.fromEntries(
    Object.entries({ 'Content-Type': 'application/json', ...t.headers }).map(([k, v]) => [k, [v]]),
  );
  const lines: string[] = [];
  for (const body of bodies)
    lines.push(
      JSON.stringify({ method: 'POST', url: t.url, header, body: Buffer.from(body).toString('base64') }),
    );
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * A JSON targets file for one attack at `rate` for `seconds` in which every request brings a content
 * of its own (`<content> <tag>-<i>`): one per request the attack can send, and a margin, so vegeta's
 * round-robin never repeats one. `tag` keeps attacks apart (a response cache holds what the last sent).
 */
export function writeNewContents(
  file: string,
  url: string,
  o: {
    readonly rate: number;
    readonly seconds: number;
    readonly content: string;
    readonly tag: string | number;
  },
): Promise<string> {
  const count = Math.ceil(o.rate * o.seconds * 1.05) + 16;
  const bodies = function* () {
    for (let i = 0; i < count; i++) yield JSON.stringify({ content: `${o.content} ${o.tag}-${i}` });
  };
  return writeJsonTargets(file, { url }, bodies());
}

export interface AttackResult {
  readonly requests: number;
  /** Requests per second actually sent. */
  readonly rate: number;
  readonly throughput: number;
  /** Requests that did not get a 2xx. */
  readonly errors: number;
  readonly success: number;
  /** Milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  /** vegeta's results file of the attack, when kept (`vegeta encode` reads each request of it). */
  readonly file?: string;
}

interface VegetaReport {
  latencies: { '50th': number; '99th': number; max: number };
  requests: number;
  rate: number;
  throughput: number;
  success: number;
  status_codes: Record<string, number>;
}

export interface AttackOptions {
  /** Requests per second; 0 is a closed loop (each worker sends its next request when the last answers). */
  readonly rate: number;
  readonly seconds: number;
  /** Closed loop: the number of clients. Open loop: the initial worker count. */
  readonly workers?: number;
  readonly maxWorkers?: number;
  /** Keep vegeta's results file (`AttackResult.file`) for the caller to read; the caller removes it. */
  readonly keepResults?: boolean;
  /** The targets file's format: `http` (writeTarget, the default) or `json` (writeJsonTargets). */
  readonly format?: 'http' | 'json';
}

/** One vegeta attack, reported (latencies in milliseconds). */
export async function attack(vegeta: string, targets: string, o: AttackOptions): Promise<AttackResult> {
  const out = `${targets}.${o.rate}.bin`;
  const args = [
    'attack',
    `-targets=${targets}`,
    `-rate=${o.rate}`,
    `-duration=${o.seconds}s`,
    '-keepalive=true',
    `-output=${out}`,
  ];
  if (o.format === 'json') args.push('-format=json');
  if (o.rate === 0) {
    const w = o.workers ?? 1;
    args.push(`-workers=${w}`, `-max-workers=${w}`);
  } else {
    if (o.workers !== undefined) args.push(`-workers=${o.workers}`);
    args.push(`-max-workers=${o.maxWorkers ?? 512}`);
  }
  await run(vegeta, args, { timeout: (o.seconds + 60) * 1000 });
  const { stdout } = await run(vegeta, ['report', '-type=json', out], { maxBuffer: 64 << 20 });
  const r = JSON.parse(stdout) as VegetaReport;
  // A ramp writes hundreds of MB of results; only the report is read, unless asked.
  if (!o.keepResults) await rm(out, { force: true });
  return {
    requests: r.requests,
    rate: r.rate,
    throughput: r.throughput,
    errors: Math.round(r.requests * (1 - r.success)),
    success: r.success,
    p50: r.latencies['50th'] / 1e6,
    p99: r.latencies['99th'] / 1e6,
    max: r.latencies.max / 1e6,
    statusCodes: r.status_codes,
    ...(o.keepResults ? { file: out } : {}),
  };
}
