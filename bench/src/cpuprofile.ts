// Reads a V8 .cpuprofile (what `node --cpu-prof` writes) into self and inclusive time per function,
// and self time per group: a package under node_modules, one of our files, a Node built-in, or V8's
// own buckets (GC, program, idle). Pure: the profile object in, tables out.

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

export interface FunctionTime {
  readonly name: string;
  readonly group: string;
  readonly where: string;
  /** Milliseconds. */
  readonly self: number;
  readonly inclusive: number;
}

export interface ProfileSummary {
  /** Milliseconds sampled outside `(idle)`. */
  readonly busyMs: number;
  readonly totalMs: number;
  readonly groups: readonly { readonly group: string; readonly self: number }[];
  readonly functions: readonly FunctionTime[];
}

/** The group a frame's time is charged to. */
export function groupOf(f: CallFrame): string {
  const u = f.url;
  if (!u) return f.functionName.startsWith('(') ? f.functionName : '(native)';
  if (u.startsWith('node:')) return `node:${u.slice(5).split('/')[0]}`;
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ours = /\/(runtime|operator|bench)\/src\/(.+)$/.exec(u);
  if (ours) return `ours: ${ours[1]}/src/${ours[2]}`;
  return u.replace(/^file:\/\//, '');
}

const whereOf = (f: CallFrame): string => {
  if (!f.url) return '';
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '');
  return `${file.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
};

/**
 * `window` (microseconds on the profile's clock, CLOCK_MONOTONIC as `process.hrtime` reads it) keeps
 * only the samples taken inside it: the measured load, without start-up and shutdown.
 */
export function summarizeProfile(p: CpuProfile, window?: { from: number; to: number }): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const key = (f: CallFrame) => `${f.functionName}\u0000${f.url}\u0000${f.lineNumber}`;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const frames = new Map<string, CallFrame>();
  let total = 0;
  let idle = 0;
  // timeDeltas[i] is the time before sample i; the interval after sample i is charged to it.
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    if (window && (at < window.from || at > window.to)) continue;
    const dt = (p.timeDeltas[i + 1] ?? 0) / 1000;
    total += dt;
    const node = byId.get(p.samples[i]!);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const k = key(node.callFrame);
    frames.set(k, node.callFrame);
    self.set(k, (self.get(k) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      const fk = key(f);
      if (seen.has(fk)) continue; // recursion counts once per sample
      seen.add(fk);
      frames.set(fk, f);
      incl.set(fk, (incl.get(fk) ?? 0) + dt);
    }
  }
  const groups = new Map<string, number>();
  for (const [k, v] of self) {
    const g = groupOf(frames.get(k)!);
    groups.set(g, (groups.get(g) ?? 0) + v);
  }
  const functions: FunctionTime[] = [...frames.entries()]
    .filter(([, f]) => f.functionName !== '(root)')
    .map(([k, f]) => ({
      name: f.functionName || '(anonymous)',
      group: groupOf(f),
      where: whereOf(f),
      self: self.get(k) ?? 0,
      inclusive: incl.get(k) ?? 0,
    }));
  return {
    busyMs: total - idle,
    totalMs: total,
    groups: [...groups.entries()].map(([group, s]) => ({ group, self: s })).sort((a, b) => b.self - a.self),
    functions,
  };
}

/**
 * The part of a hop a function's self time belongs to, for the "where each 0.1 ms went" budget:
 * socket syscalls, the client side (SDK, its WHATWG Headers, undici), the server side (fastify and
 * Node's HTTP), and our own stages by file.
 */
export function budgetOf(f: FunctionTime): string {
  const g = f.group;
  if (/^(writev|writeUtf8String|writeBuffer|writeLatin1String|readv?)$/.test(f.name) && g === '(native)')
    return 'socket syscalls (both exchanges)';
  if (g === '(garbage collector)') return 'GC';
  if (g === '@anthropic-ai/sdk') return 'SDK (@anthropic-ai/sdk)';
  if (g === 'node:internal' && f.where.startsWith('undici/undici'))
    return "SDK's WHATWG Headers/Response (Node's undici)";
  if (g === 'undici' || g.startsWith('wasm://')) return 'undici (the call to the upstream)';
  if (f.name === 'randomFillSync' || /pipeline\/signal\.ts/.test(g)) return 'ids (crypto random per request)';
  if (g === 'opossum' || /pipeline\/breaker\.ts/.test(g)) return 'breaker (opossum + ours)';
  if (g === 'prom-client' || /ours: runtime\/src\/metrics\//.test(g))
    return 'metrics (prom-client + observer)';
  if (
    /^(fastify|find-my-way|secure-json-parse|fast-json-stringify|light-my-request|avvio|fast-querystring)$/.test(
      g,
    )
  )
    return 'fastify (inbound request/reply)';
  if (/^node:(_http_|net|stream|buffer)/.test(g) || g === 'node:events')
    return "Node's HTTP server and streams";
  if (g.startsWith('ours: runtime/src/claude/')) return 'ours: claude/ (back-end)';
  if (g.startsWith('ours: runtime/src/pipeline/')) return 'ours: pipeline/';
  if (g.startsWith('ours: ')) return 'ours: other files';
  if (g === '(program)' || g === '(native)' || g === 'node:internal' || g.startsWith('node:'))
    return 'V8/Node runtime (microtasks, timers, promises)';
  return 'other packages';
}
