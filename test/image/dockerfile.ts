// The subset of the Dockerfile language our images use, parsed into stages, so tests can build an
// image's file tree as `docker build` would and start its ENTRYPOINT (there is no container engine
// here). Anything outside the subset is an error naming the line: a Dockerfile that grows a new
// instruction must grow the builder too, never be half-read.

export type Step =
  | { readonly kind: 'workdir'; readonly path: string; readonly line: number }
  | {
      readonly kind: 'copy';
      readonly from?: string;
      readonly sources: readonly string[];
      readonly dest: string;
      readonly line: number;
    }
  | { readonly kind: 'run'; readonly command: string; readonly line: number }
  | { readonly kind: 'env'; readonly vars: Readonly<Record<string, string>>; readonly line: number }
  | { readonly kind: 'user'; readonly uid: number; readonly gid: number; readonly line: number };

export interface Stage {
  readonly name?: string;
  readonly base: string;
  readonly steps: readonly Step[];
}

export interface Dockerfile {
  readonly stages: readonly Stage[];
  /** The final stage's exec-form ENTRYPOINT. */
  readonly entrypoint: readonly string[];
  /** The final stage's exec-form CMD: the ENTRYPOINT's arguments unless a run gives its own. */
  readonly cmd: readonly string[];
  readonly expose: readonly number[];
}

export class DockerfileError extends Error {
  constructor(line: number, why: string) {
    super(`Dockerfile line ${line}: ${why}`);
  }
}

/** Logical lines: comments dropped, `\` continuations joined; each with its first physical line. */
function logicalLines(text: string): { readonly text: string; readonly line: number }[] {
  const out: { text: string; line: number }[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, i) => {
    const l = raw.trim();
    if (!pending && (l === '' || l.startsWith('#'))) return;
    if (pending && l.startsWith('#')) return;
    const cont = l.endsWith('\\');
    const part = cont ? l.slice(0, -1).trim() : l;
    if (pending) pending.text += ` ${part}`;
    else pending = { text: part, line: i + 1 };
    if (!cont) {
      out.push(pending);
      pending = undefined;
    }
  });
  if (pending) throw new DockerfileError(pending.line, 'a line continuation runs past the end of the file');
  return out;
}

/** `K=V` pairs; a value may be double-quoted. The legacy `ENV K V` form is refused. */
function envPairs(args: string, line: number): Record<string, string> {
  const vars: Record<string, string> = {};
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/y;
  let m: RegExpExecArray | null;
  let at = 0;
  // biome-ignore lint/suspicious/noAssignInExpressions: a sticky scan.
  while ((m = re.exec(args)) !== null) {
    const v = m[2]!;
    vars[m[1]!] = v.startsWith('"') ? (JSON.parse(v) as string) : v;
    at = re.lastIndex;
  }
  if (args.slice(at).trim() !== '' || Object.keys(vars).length === 0)
    throw new DockerfileError(line, `ENV takes K=V pairs, got "${args}"`);
  return vars;
}

function execForm(op: string, args: string, line: number): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((a) => typeof a === 'string'))
    throw new DockerfileError(line, `${op} must be in exec form (a JSON array of strings)`);
  return parsed;
}

export function parseDockerfile(text: string): Dockerfile {
  const stages: { name?: string; base: string; steps: Step[] }[] = [];
  let entrypoint: string[] | undefined;
  let cmd: string[] = [];
  const expose: number[] = [];
  for (const { text: l, line } of logicalLines(text)) {
    const sp = l.indexOf(' ');
    const op = (sp < 0 ? l : l.slice(0, sp)).toUpperCase();
    const args = sp < 0 ? '' : l.slice(sp + 1).trim();
    if (op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+([A-Za-z0-9_.-]+))?$/i.exec(args);
      if (!m) throw new DockerfileError(line, `FROM takes an image and an optional AS name, got "${args}"`);
      stages.push({ base: m[1]!, ...(m[2] ? { name: m[2] } : {}), steps: [] });
      // ENTRYPOINT and EXPOSE are the final stage's (our bases set none of their own).
      entrypoint = undefined;
      cmd = [];
      expose.length = 0;
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new DockerfileError(line, `${op} before the first FROM`);
    switch (op) {
      case 'WORKDIR':
        if (!args.startsWith('/')) throw new DockerfileError(line, 'WORKDIR must be an absolute path');
        stage.steps.push({ kind: 'workdir', path: args, line });
        break;
      case 'COPY': {
        const words = args.split(/\s+/);
        let from: string | undefined;
        while (words[0]?.startsWith('--')) {
          const flag = words.shift()!;
          if (!flag.startsWith('--from='))
            throw new DockerfileError(line, `COPY flag ${flag} is not supported`);
          from = flag.slice('--from='.length);
        }
        if (words.length < 2) throw new DockerfileError(line, 'COPY needs a source and a destination');
        if (from !== undefined && !stages.slice(0, -1).some((s) => s.name === from))
          throw new DockerfileError(line, `COPY --from=${from} names no earlier stage`);
        const dest = words.pop()!;
        stage.steps.push({ kind: 'copy', ...(from ? { from } : {}), sources: words, dest, line });
        break;
      }
      case 'RUN':
        if (args.startsWith('[')) throw new DockerfileError(line, 'RUN in exec form is not supported');
        stage.steps.push({ kind: 'run', command: args, line });
        break;
      case 'ENV':
        stage.steps.push({ kind: 'env', vars: envPairs(args, line), line });
        break;
      case 'USER': {
        const m = /^(\d+):(\d+)$/.exec(args);
        if (!m) throw new DockerfileError(line, `USER must be numeric uid:gid, got "${args}"`);
        stage.steps.push({ kind: 'user', uid: Number(m[1]), gid: Number(m[2]), line });
        break;
      }
      case 'EXPOSE':
        for (const p of args.split(/\s+/)) {
          const port = Number(p);
          if (!Number.isInteger(port))
            throw new DockerfileError(line, `EXPOSE takes port numbers, got "${p}"`);
          expose.push(port);
        }
        break;
      case 'ENTRYPOINT':
        entrypoint = execForm(op, args, line);
        break;
      case 'CMD':
        cmd = execForm(op, args, line);
        break;
      default:
        throw new DockerfileError(line, `${op} is not supported by the image builder`);
    }
  }
  if (stages.length === 0) throw new DockerfileError(1, 'no FROM');
  if (!entrypoint) throw new DockerfileError(1, 'the final stage has no ENTRYPOINT');
  return { stages, entrypoint, cmd, expose };
}
