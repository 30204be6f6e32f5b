import { MIN_TOKEN_CHARS, tokenProblem } from './secrets.ts';
import { type Ctx, join, type Obj } from './section.ts';

// Readers of one value of a mapping: an absent value takes its default, a wrong one is a problem
// naming its key (and the default stands in, so the other values are still checked).

/** A value quoted in a problem, bounded, and safe for cycles (YAML aliases) and BigInts. */
function show(v: unknown): string {
  // JSON has no infinity or NaN (YAML's .inf, .nan): stringify would print null.
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = typeof v;
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** A number within [min, max] that `valid` accepts (`kind` names it in the problem). */
const bounded =
  (kind: string, valid: (v: number) => boolean) =>
  (ctx: Ctx, o: Obj, path: string, key: string, def: number, min: number, max: number): number => {
    const v = o[key];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !valid(v) || v < min || v > max) {
      ctx.problems.push({
        field: join(path, key),
        message: `must be ${kind} from ${min} to ${max} (got ${show(v)})`,
      });
      return def;
    }
    return v;
  };

export const int = bounded('an integer', Number.isInteger);
export const num = bounded('a number', Number.isFinite);

export function str(ctx: Ctx, o: Obj, path: string, key: string, def: string, maxLen = 65_536): string {
  const v = o[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string' || v.length > maxLen) {
    ctx.problems.push({
      field: join(path, key),
      message: `must be a string of at most ${maxLen} characters`,
    });
    return def;
  }
  return v;
}

export function oneOf<T extends string>(
  ctx: Ctx,
  o: Obj,
  path: string,
  key: string,
  def: T,
  values: readonly T[],
): T {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !values.includes(v as T)) {
    ctx.problems.push({
      field: join(path, key),
      message: `must be one of ${values.join(', ')} (got ${show(v)})`,
    });
    return def;
  }
  return v as T;
}

export function strList(ctx: Ctx, o: Obj, path: string, key: string, def: readonly string[]): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [...def];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    ctx.problems.push({ field: join(path, key), message: 'must be a list of strings' });
    return [...def];
  }
  return v as string[];
}

export function url(ctx: Ctx, o: Obj, path: string, key: string): string {
  const v = str(ctx, o, path, key, '');
  if (v === '') return v;
  let u: URL;
  try {
    u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
  } catch {
    ctx.problems.push({
      field: join(path, key),
      message: `must be an http(s) URL (got ${show(v)})`,
    });
    return '';
  }
  // A URL is logged and put on spans; a secret in it would be too. Not quoted here, for the same reason.
  if (u.username || u.password) {
    ctx.problems.push({
      field: join(path, key),
      message:
        'must not hold credentials (user:password@): secrets go in files (the API key file, the peer token file)',
    });
    return '';
  }
  // Paths are appended to it (`/v1/neurons/…`, `/v1/messages`): after a query or a fragment they
  // would go into it, and every call would reach the server's root.
  if (/[?#]/.test(v)) {
    ctx.problems.push({
      field: join(path, key),
      message:
        'must not have a query (?…) or a fragment (#…): write http(s)://host:port, optionally with a path',
    });
    return '';
  }
  return v.replace(/\/+$/, '');
}

/**
 * A bearer token given inline (empty: none): one a client can send, or every call is refused, and
 * long enough not to be guessed.
 */
export function token(ctx: Ctx, o: Obj, path: string, key: string): string {
  const v = str(ctx, o, path, key, '');
  const problem = v === '' ? undefined : tokenProblem(v, MIN_TOKEN_CHARS);
  if (problem) {
    ctx.problems.push({ field: join(path, key), message: problem });
    return '';
  }
  return v;
}
