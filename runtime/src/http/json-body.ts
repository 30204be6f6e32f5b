import type { FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { Hal9Error } from '../errors.ts';
import { clip } from './error-response.ts';

// The JSON body parser: fastify's own, with errors that say what is wrong. Fastify's answers every
// failure with the same "Body is not valid JSON" (an empty body, a syntax error at some position,
// and a `__proto__` key it refuses alike), which leaves a caller guessing.

const REFUSED = 'Object contains forbidden prototype property';

// JSON is UTF-8 (RFC 8259): bytes that are not are refused, not replaced by U+FFFD in the content a
// model is asked about (a Latin-1 "café" came back as "caf\uFFFD").
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Charsets whose bytes are UTF-8 (US-ASCII is a subset); an empty one says nothing. */
const UTF8_CHARSETS: ReadonlySet<string> = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii', '']);

const NO_CHARSETS: readonly string[] = [];

/** Whether a transfer-encoding (Node joins repeated headers with ", ") is `chunked` and nothing else. */
const onlyChunked = (te: string): boolean => {
  const codings = te
    .toLowerCase()
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  return codings.length === 1 && codings[0] === 'chunked';
};

/** The charsets a content-type names, lower case (none, one, or a contradiction). */
function charsetsOf(contentType: string | undefined): readonly string[] {
  // The usual `application/json` has no parameters: no pattern run, no array per request.
  if (contentType === undefined || !contentType.includes(';')) return NO_CHARSETS;
  return [...contentType.matchAll(/;\s*charset\s*=\s*"?([^";\s]*)"?/gi)].map((m) =>
    (m[1] ?? '').toLowerCase(),
  );
}

// A `\uD800`-style escape can spell half of a UTF-16 surrogate pair, which no Unicode text holds (the
// UTF-8 check above cannot see an escape). The Messages API refuses such a string, so the caller would
// get an upstream error for its own input: refused here, naming where. Only a body with such an escape
// is walked.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

interface Visit {
  readonly value: unknown;
  readonly key: string | number | undefined;
  readonly parent: Visit | undefined;
}

/** Levels of a path an error names: the first and last PATH_ENDS, the count of those between. */
export const PATH_ENDS = 8;

// Each key is cut short, and so is the number of levels: a body nested 500,000 levels deep must not
// get an error naming every one of them (an answer three times the body, echoed into logs).
const pathOf = (v: Visit): string => {
  const keys: (string | number)[] = [];
  for (let at: Visit | undefined = v; at?.key !== undefined; at = at.parent) keys.push(at.key);
  keys.reverse();
  const part = (k: string | number, first: boolean) =>
    typeof k === 'number' ? `[${k}]` : `${first ? '' : '.'}${clip(k, 63)}`;
  if (keys.length <= 2 * PATH_ENDS) return keys.map((k, i) => part(k, i === 0)).join('');
  const head = keys.slice(0, PATH_ENDS).map((k, i) => part(k, i === 0));
  const tail = keys.slice(-PATH_ENDS).map((k) => part(k, false));
  return `${head.join('')}…(${keys.length - 2 * PATH_ENDS} levels)…${tail.join('')}`;
};

/** Where the first string (a key or a value) that is not well-formed Unicode is, or undefined. */
export function illFormedString(root: unknown): string | undefined {
  // Iterative: a body may nest as deep as the parser went (hundreds of thousands of levels).
  const stack: Visit[] = [{ value: root, key: undefined, parent: undefined }];
  while (stack.length > 0) {
    const at = stack.pop()!;
    const { value } = at;
    if (typeof value === 'string') {
      if (!value.isWellFormed()) return pathOf(at) || 'body';
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], key: i, parent: at });
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (!k.isWellFormed()) return `${pathOf(at) || 'body'} (a key)`;
        stack.push({ value: v, key: k, parent: at });
      }
    }
  }
  return undefined;
}

/** A content-type parser for fastify (`parseAs: 'buffer'`): the body, or a Hal9Error naming the fault. */
export function parseJsonBody(
  req: FastifyRequest,
  raw: Buffer,
  done: (err: Error | null, body?: unknown) => void,
): void {
  // No route takes this request (404, or 405 for a known path): its body is nobody's, and the
  // answer says so rather than what is wrong with the body.
  if (req.is404) {
    done(null, undefined);
    return;
  }
  // A compressed body read as text would only fail as "not valid JSON" somewhere in its bytes.
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    done(
      new Hal9Error(
        'UNSUPPORTED_MEDIA_TYPE',
        `the body is sent with content-encoding ${JSON.stringify(clip(encoding))}: send it uncompressed (no content-encoding, or identity)`,
        { field: 'content-encoding' },
      ),
    );
    return;
  }
  // Node's parser undoes only `chunked` and hands on the bytes of any coding before it (`gzip,
  // chunked`): read as they are, a body labelled gzip ran as plain text, and a gzipped one failed as
  // "not valid UTF-8". A coding the runtime does not decode is refused, naming the header.
  const transfer = req.headers['transfer-encoding'];
  if (transfer !== undefined && !onlyChunked(transfer)) {
    done(
      new Hal9Error(
        'UNSUPPORTED_MEDIA_TYPE',
        `the body is sent with transfer-encoding ${JSON.stringify(clip(transfer))}: send it with chunked alone, or with a content-length`,
        { field: 'transfer-encoding' },
      ),
    );
    return;
  }
  const charsets = charsetsOf(req.headers['content-type']);
  if (charsets.length > 1 && new Set(charsets).size > 1) {
    done(
      new Hal9Error(
        'UNSUPPORTED_MEDIA_TYPE',
        `the content-type names ${charsets.length} charsets: JSON bodies are UTF-8 (send charset=utf-8 once, or no charset)`,
        { field: 'content-type' },
      ),
    );
    return;
  }
  const charset = charsets[0];
  if (charset !== undefined && !UTF8_CHARSETS.has(charset)) {
    done(
      new Hal9Error(
        'UNSUPPORTED_MEDIA_TYPE',
        `the body is declared charset=${clip(charset)}: JSON bodies are UTF-8 (send charset=utf-8 or no charset)`,
        { field: 'content-type' },
      ),
    );
    return;
  }
  // A route that takes no body (a DELETE) is not refused for an empty one: some clients send a JSON
  // content-type on every request.
  if (raw.length === 0 && req.routeOptions.schema?.body === undefined) {
    done(null, undefined);
    return;
  }
  if (raw.length === 0) {
    done(new Hal9Error('INVALID_JSON', 'the body is empty: send a JSON object', { field: 'body' }));
    return;
  }
  let body: string;
  try {
    body = utf8.decode(raw);
  } catch {
    done(new Hal9Error('INVALID_JSON', 'the body is not valid UTF-8', { field: 'body' }));
    return;
  }
  let value: unknown;
  try {
    value = sjson.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (e) {
    done(jsonError(e));
    return;
  }
  const illFormed = SURROGATE_ESCAPE.test(body) ? illFormedString(value) : undefined;
  if (illFormed !== undefined) {
    done(
      new Hal9Error(
        'INVALID_REQUEST',
        `${illFormed} holds a \\u escape of half a surrogate pair (U+D800 to U+DFFF alone), which is not Unicode text: escape the whole pair, or send the character as UTF-8`,
        { field: illFormed.replace(/ \(a key\)$/, '') },
      ),
    );
    return;
  }
  done(null, value);
}

function jsonError(e: unknown): Hal9Error {
  const message = e instanceof Error ? e.message : String(e);
  if (message === REFUSED)
    // Refused before validation: such keys could alter objects built from the body.
    return new Hal9Error('INVALID_REQUEST', 'the body has a "__proto__" or "constructor.prototype" key', {
      field: 'body',
    });
  return new Hal9Error('INVALID_JSON', `the body is not valid JSON: ${clip(message)}`, { field: 'body' });
}
