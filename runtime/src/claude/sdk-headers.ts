import type Anthropic from '@anthropic-ai/sdk';

// The SDK builds every call's headers anew: its client merges five sources through generators into a
// validated WHATWG Headers (with the smaller merges before it, 10 % of an `api` hop's CPU;
// bench/README.md has the profile). For
// our calls they never change: the key is fixed per client, the body is always JSON and the SDK's
// per-call telemetry headers (retry count, timeout) are switched off in createAnthropicClient. So
// the SDK builds them once, by its own code, and each call reuses that result, adding only what the
// call itself carries (a traceparent).
//
// The hook is the client's own `buildHeaders` method (private in the SDK's types, so reached through
// a cast). An SDK without it keeps its own path; sdk-headers.test.ts checks the headers on the wire.

interface BuildHeadersArgs {
  readonly options: { readonly headers?: unknown };
  readonly bodyHeaders?: unknown;
  readonly [k: string]: unknown;
}
type BuildHeaders = (args: BuildHeadersArgs) => Promise<Headers | Record<string, string>>;

// messages.create hands its headers on in the SDK's own merged form: a Headers plus the names
// removed (null) on the way.
const NULLABLE = Symbol.for('brand.privateNullableHeaders');
interface NullableHeaders {
  readonly values: Headers;
  readonly nulls: Set<string>;
}

/** A call's own headers as lower-case pairs, or undefined when they are in a form not handled here
 * (a header removed, a list value): then the SDK's own path builds that call's headers. */
function ownHeaders(h: unknown): Record<string, string> | undefined {
  if (h === undefined || h === null) return {};
  if (typeof h !== 'object' || Array.isArray(h)) return undefined;
  let pairs: Iterable<[string, unknown]>;
  if (NULLABLE in h) {
    const n = h as unknown as NullableHeaders;
    if (n.nulls.size > 0) return undefined;
    pairs = n.values;
  } else pairs = h instanceof Headers ? h : Object.entries(h);
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) {
    if (typeof v !== 'string') return undefined;
    out[k.toLowerCase()] = v;
  }
  return out;
}

export function memoizeSdkHeaders(client: Anthropic): void {
  const sdk = client as unknown as { buildHeaders?: BuildHeaders };
  const original = sdk.buildHeaders;
  if (typeof original !== 'function') return;
  // One result per body content-type (always JSON for messages.create), as a plain record: undici
  // takes it as it is, and the SDK's debug log (ANTHROPIC_LOG=debug) still redacts the key in it.
  const built = new Map<string, Promise<Readonly<Record<string, string>>>>();
  sdk.buildHeaders = function (this: unknown, args: BuildHeadersArgs) {
    const own = ownHeaders(args.options.headers);
    const body = ownHeaders(args.bodyHeaders);
    const kind = body?.['content-type'];
    if (!own || !body || kind === undefined || Object.keys(body).length !== 1)
      return original.call(this, args);
    let base = built.get(kind);
    if (!base) {
      base = original
        .call(this, { ...args, options: { ...args.options, headers: undefined } })
        .then((h) => Object.freeze(Object.fromEntries(h instanceof Headers ? h : Object.entries(h))));
      built.set(kind, base);
      // A failure (no credentials) is not kept: the next call builds again, and fails the same way.
      base.catch(() => built.delete(kind));
    }
    // The shared headers as they are, or (a call with its own, e.g. a traceparent) a copy with them.
    for (const _ in own) return base.then((b) => ({ ...b, ...own }));
    return base;
  } as BuildHeaders;
}
