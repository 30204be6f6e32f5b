// Reading the JSON of a model API answer, which is input like any other: the answer must not choose
// what reading it costs, and a failure must not quote it (an upstream, or a proxy at base_url, can
// echo the request's API key back in its body).

/**
 * How deeply an answer's arrays and objects may nest. A Messages answer nests about five levels (the
 * body, `content`, a block, its `citations`, one citation). V8's JSON.parse walks nesting without
 * recursion, so nothing stops a deep one: 2 million nested lists (4 MB, within MAX_ANSWER_BYTES)
 * held the event loop for over a second and took 130 MB.
 */
export const MAX_ANSWER_DEPTH = 64;

/** An answer that is not JSON the runtime reads; the message names the kind and place, never its text. */
export class MalformedAnswerError extends Error {
  readonly code = 'UPSTREAM_ANSWER_MALFORMED';
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_LIST = 0x5b;
const CLOSE_LIST = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether `text`'s arrays and objects nest deeper than `limit`: one pass over the char codes, each
 * string skipped to its closing quote (one after an even run of backslashes), so brackets inside
 * strings do not count. It does not validate: JSON.parse, run after it, does. A closer without an
 * opener takes the count below zero, and JSON.parse stops at that closer, before any later opener.
 * It runs on every answer: with strings skipped by indexOf it costs about a third of JSON.parse
 * (0.9 against 2.6 µs for a 1.3 KB answer, 21 against 67 µs for 100 KB; a char-by-char loop through
 * strings costs as much as the parse), and at worst 8 MiB of escaped quotes take about 110 ms.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (;;) {
        i = text.indexOf('"', i + 1);
        // An unterminated string holds no more nesting; JSON.parse names it.
        if (i < 0) return false;
        let b = i - 1;
        while (text.charCodeAt(b) === BACKSLASH) b--;
        if ((i - 1 - b) % 2 === 0) break;
      }
    } else if (c === OPEN_LIST || c === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_LIST || c === CLOSE_OBJECT) depth--;
  }
  return false;
}

// The kinds of JSON.parse failure, told apart by the fixed opening words of V8's messages and put in
// words of our own. Nothing of a message is passed on but its position: V8's "Unexpected token"
// messages quote up to 20 characters of the text instead of giving one.
const SYNTAX_KINDS: readonly (readonly [RegExp, string])[] = [
  [/^Unterminated string/, 'a string is not closed'],
  [/^Bad control character/, 'a control character inside a string'],
  [/^Bad (escaped character|Unicode escape)/, 'a bad escape inside a string'],
  [/^Unexpected non-whitespace character after JSON/, 'more text after the JSON value'],
];

/** The index of the first character that is not JSON whitespace, when it cannot start a JSON value. */
function badStart(text: string): number | undefined {
  const i = text.search(/[^ \t\r\n]/);
  return i >= 0 && !/[[{"\-0-9tfn]/.test(text[i]!) ? i : undefined;
}

/** What is wrong with `text`, which JSON.parse refused with `e`: the kind and the position only. */
export function jsonSyntaxProblem(e: SyntaxError, text: string): string {
  const of = `of ${text.length} characters`;
  const at = / at position (\d+)/.exec(e.message)?.[1];
  // V8 says "Unexpected end", or names what it expected where the text ended.
  if (/^Unexpected end of JSON input/.test(e.message) || Number(at) === text.length)
    return `it ends early, after ${text.length} characters`;
  if (at !== undefined) {
    const kind = SYNTAX_KINDS.find(([re]) => re.test(e.message))?.[1] ?? 'an unexpected character';
    return `${kind} at position ${at} ${of}`;
  }
  const start = badStart(text);
  return start !== undefined
    ? `a character that cannot start JSON at position ${start} ${of}`
    : `an unexpected character somewhere in ${text.length} characters`;
}

/**
 * JSON.parse over an answer's text, after the nesting check: a MalformedAnswerError when the text
 * nests deeper than MAX_ANSWER_DEPTH or is not JSON, naming the limit or the kind and the position.
 */
export function parseAnswerJson(text: string): unknown {
  if (nestsDeeperThan(text, MAX_ANSWER_DEPTH))
    throw new MalformedAnswerError(
      `its JSON nests deeper than ${MAX_ANSWER_DEPTH} levels (the runtime's limit for an answer)`,
    );
  try {
    return JSON.parse(text);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new MalformedAnswerError(
      `its content-type says JSON but the body is not JSON (${jsonSyntaxProblem(e, text)})`,
    );
  }
}
