// The routing protocol: how a neuron's text answer says where the signal goes next.
// Directives start at column 0 and are case-sensitive; a directive's text is the rest of its own
// line plus every following line up to the next directive (the original dropped the inline text).
// Targets (FORWARD_TO, BACKWARD_TO) are the comma-separated names on the directive's own line: prose
// after it names no neuron, and a bare name on a later line is not a target.
// A line ends at \r\n, \n or a lone \r; every other character (U+2028 included) is text, so no
// line that starts with a directive is ever read as the previous directive's text.

import { excerpt } from './detached.ts';
import { type Fence, fencesOf } from './fences.ts';

const DIRECTIVES = ['FORWARD_TO', 'CONTENT', 'RESULT', 'BACKWARD_TO', 'ERROR_TYPE'] as const;
type Directive = (typeof DIRECTIVES)[number];

interface Block {
  readonly directive: Directive;
  readonly text: string;
  /** FORWARD_TO and BACKWARD_TO: the rest of the directive's own line, where their targets are. */
  readonly own?: string;
}

export interface Forward {
  readonly targets: readonly string[];
  /** Undefined when the answer names targets but no CONTENT: the incoming content passes through. */
  readonly content: string | undefined;
}

export interface ParsedAnswer {
  readonly forwards: readonly Forward[];
  readonly results: readonly string[];
  readonly backward: { readonly targets: readonly string[]; readonly errorType: string } | undefined;
  /** Lines written as directives that are not read as any (see MISREAD); absent when none. */
  readonly misread?: Misread;
}

export interface Misread {
  /** The first MAX_MISREAD_QUOTED such lines, each cut to 63 characters. */
  readonly lines: readonly string[];
  readonly count: number;
}

/**
 * A line at column 0 that a model meant as a directive but is not one: a directive name behind a
 * byte order mark or Markdown marks (`**FORWARD_TO:**`, `# RESULT:`, `- CONTENT:`), a name with an
 * underscore in another case (`forward_to:`), a space before the colon, or a full-width or other
 * look-alike colon. Such a line is read as text (or, before the first directive, dropped), so the
 * answer goes somewhere its writer did not mean: the caller is told (routeAnswer's MALFORMED_DIRECTIVE).
 * CONTENT and RESULT count only in capitals: "Result: 42" is prose. An indented line is never one:
 * indenting is how a directive is quoted as data (the mock's `inert`). Nor is a line of a fenced
 * code block (``` or ~~~), and inside a directive's text only names in capitals count: `forward_to:`
 * there is more likely a key of the YAML or code a RESULT holds than a routing line.
 */
const MISREAD_PREFIX = '\\uFEFF?(?:[*_#>`~-]+[ \\t]*)?';
const MISREAD_SUFFIX = '[*_`]*[ \\t]*[:\\uFF1A\\uFE55\\uFE13\\uA789\\u2236]';
const ANY_CASE =
  '[Ff][Oo][Rr][Ww][Aa][Rr][Dd]_[Tt][Oo]|[Bb][Aa][Cc][Kk][Ww][Aa][Rr][Dd]_[Tt][Oo]|[Ee][Rr][Rr][Oo][Rr]_[Tt][Yy][Pp][Ee]|CONTENT|RESULT';
const CAPITALS = 'FORWARD_TO|BACKWARD_TO|ERROR_TYPE|CONTENT|RESULT';
const MISREAD_SOURCE = `${MISREAD_PREFIX}(?:${ANY_CASE})${MISREAD_SUFFIX}`;
const MISREAD = new RegExp(MISREAD_SOURCE, 'y');
/** Inside a directive's text: the names in capitals only. */
const MISREAD_IN_TEXT = new RegExp(`${MISREAD_PREFIX}(?:${CAPITALS})${MISREAD_SUFFIX}`, 'y');

/** Every line start a directive or a misread directive begins at (the mock indents these). */
export const DIRECTIVE_LIKE_START = new RegExp(`^(?=${MISREAD_SOURCE})`, 'gm');

/** Misread lines quoted in an answer's error; the rest are counted. */
export const MAX_MISREAD_QUOTED = 3;

// The first characters a misread line can start with: most lines are skipped on one comparison.
const MISREAD_FIRST = new Set([...'FfBbEeCR\uFEFF*_#>`~-'].map((c) => c.charCodeAt(0)));

function misreadAt(text: string, at: number, inText: boolean): boolean {
  if (!MISREAD_FIRST.has(text.charCodeAt(at))) return false;
  const re = inText ? MISREAD_IN_TEXT : MISREAD;
  re.lastIndex = at;
  return re.test(text);
}

/** The directive a line starting at `at` opens (`NAME:` at column 0), else undefined. */
function directiveAt(text: string, at: number): Directive | undefined {
  for (const d of DIRECTIVES) if (text.startsWith(d, at) && text.charCodeAt(at + d.length) === 58) return d;
  return undefined;
}

// One pass over the line starts with no per-line strings: a block's text is one slice of the answer
// (its line breaks made \n first), from after `NAME:` and one optional space or tab to the line
// before the next directive. The answer parsing was the largest allocation of a hop.
function blocks(answer: string, cutOff: boolean): { blocks: Block[]; misread: Misread | undefined } {
  const text = answer.includes('\r') ? answer.replace(/\r\n?/g, '\n') : answer;
  const out: Block[] = [];
  let open: Directive | undefined;
  let from = 0;
  let own: string | undefined;
  let lines: string[] | undefined;
  let count = 0;
  const fences = fencesOf(text, cutOff);
  let fence: Fence | undefined;
  for (let at = 0; at <= text.length; ) {
    // A fenced code block is data, as an indented line is: a directive quoted in it (a config or a
    // transcript the answer shows) neither routes nor splits the block it is in.
    const d = fence ? undefined : directiveAt(text, at);
    const nl = text.indexOf('\n', at);
    if (d) {
      if (open) out.push(block(open, text.slice(from, at - 1).trim(), own));
      open = d;
      from = at + d.length + 1;
      const c = text.charCodeAt(from);
      if (c === 32 || c === 9) from++;
      // `RESULT: ```yaml` opens a fence as a line of its own would.
      fence = fences.openedAt(from);
      // Not the trimmed block's first line: an empty directive line would take the next line's.
      own =
        d === 'FORWARD_TO' || d === 'BACKWARD_TO' ? text.slice(from, nl === -1 ? undefined : nl) : undefined;
    } else if (fence) {
      if (fences.closes(at, fence)) fence = undefined;
    } else {
      fence = fences.openedAt(at);
      if (!fence && misreadAt(text, at, open !== undefined)) {
        count++;
        lines ??= [];
        if (lines.length < MAX_MISREAD_QUOTED)
          lines.push(excerpt(text.slice(at, nl === -1 ? undefined : nl), 63));
      }
    }
    if (nl === -1) break;
    at = nl + 1;
  }
  if (open) out.push(block(open, text.slice(from).trim(), own));
  return { blocks: out, misread: lines ? { lines, count } : undefined };
}

const block = (directive: Directive, text: string, own: string | undefined): Block =>
  own === undefined ? { directive, text } : { directive, text, own };

const targetList = (own: string | undefined): string[] =>
  (own ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');

/**
 * `cutOff`: the model did not finish the answer (claude/backend.ts cutOff), so a fence left open is
 * one it meant to close, and what follows its opening line is quoted (fences.ts).
 */
export function parseAnswer(answer: string, cutOff = false): ParsedAnswer {
  const { blocks: bs, misread } = blocks(answer, cutOff);
  const noted = misread ? { misread } : {};
  if (bs.length === 0) {
    const whole = answer.trim();
    return { forwards: [], results: whole === '' ? [] : [whole], backward: undefined, ...noted };
  }
  const forwards: Forward[] = [];
  const results: string[] = [];
  // A blank CONTENT is no content (a model is never asked about blank text): it counts as absent.
  const firstContent = bs.find((b) => b.directive === 'CONTENT' && b.text !== '')?.text;
  bs.forEach((b, i) => {
    // A blank RESULT is no result, as a blank CONTENT is no content: an answer of nothing else is
    // unroutable, not a completed request with an empty result (nor a cached one).
    if (b.directive === 'RESULT' && b.text !== '') results.push(b.text);
    if (b.directive !== 'FORWARD_TO') return;
    // A FORWARD_TO takes the CONTENT that follows it (before the next FORWARD_TO), else the answer's
    // first, else the incoming content passes through.
    let content: string | undefined;
    for (let j = i + 1; j < bs.length && bs[j]!.directive !== 'FORWARD_TO'; j++) {
      if (bs[j]!.directive === 'CONTENT') {
        content = bs[j]!.text || undefined;
        break;
      }
    }
    forwards.push({ targets: targetList(b.own), content: content ?? firstContent });
  });
  // CONTENT with no FORWARD_TO and no RESULT has nowhere to go: it is the neuron's result, not lost.
  if (forwards.length === 0 && results.length === 0) {
    for (const b of bs) if (b.directive === 'CONTENT' && b.text !== '') results.push(b.text);
  }
  const back = bs.find((b) => b.directive === 'BACKWARD_TO');
  const backward = back
    ? {
        targets: targetList(back.own),
        errorType: bs.find((b) => b.directive === 'ERROR_TYPE')?.text || 'Unknown',
      }
    : undefined;
  return { forwards, results, backward, ...noted };
}
