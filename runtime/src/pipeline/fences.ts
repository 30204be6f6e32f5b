// Fenced code blocks in a model's answer, read at column 0 (an indented line is quoted data anyway).
// A fence opens on three or more backticks or tildes (after backticks, no other backtick on the line:
// ```` ```js x``` ```` is inline code) and closes on a line of at least as many of the same character
// and only spaces or tabs after them, as CommonMark reads them. One rule is ours: a fence counts only
// when it closes. CommonMark runs an unclosed fence to the end of the document, so one fence a model
// forgot to close, or a Markdown file quoted with nested fences of one length (the inner ``` closes
// the outer, and the last ``` then opens a fence that never closes), would turn every directive after
// it into quoted text and silently route nothing. An opening line with no closing line after it is
// text. Whether one follows is known from one pass over the answer's closing lines, so reading stays
// linear however many fences an answer opens.

/** An open fenced code block: its character (` or ~) and how many of them opened it. */
export interface Fence {
  readonly char: number;
  readonly length: number;
}

export interface Fences {
  /** The fence the line at `at` opens: one that a later line closes; else undefined. */
  openedAt(at: number): Fence | undefined;
  /** Whether the line at `at` closes `fence`. */
  closes(at: number, fence: Fence): boolean;
}

const BACKTICK = 96;
const TILDE = 126;
const NEWLINE = 10;

/** How many `char` the text has from `at` on. */
function runOf(text: string, at: number, char: number): number {
  let n = 0;
  while (text.charCodeAt(at + n) === char) n++;
  return n;
}

/** The run of ` or ~ (3 or more) that is the whole line from `at` but for spaces or tabs after it; else 0. */
function closingRun(text: string, at: number, char: number): number {
  const length = runOf(text, at, char);
  if (length < 3) return 0;
  for (let i = at + length; i < text.length && text.charCodeAt(i) !== NEWLINE; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return 0;
  }
  return length;
}

const NONE: Fences = { openedAt: () => undefined, closes: () => false };

/**
 * The fences of `text`, whose line breaks are \n. `unclosedOpen`: a fence opens whether or not a
 * later line closes it, as CommonMark reads them: for an answer the model did not finish, whose open
 * fence it meant to close (a quoted example cut off must not route).
 */
export function fencesOf(text: string, unclosedOpen = false): Fences {
  if (!text.includes('```') && !text.includes('~~~')) return NONE;
  if (unclosedOpen)
    return { openedAt: (from) => openerAt(text, from), closes: (from, f) => closes(text, from, f) };
  // Every closing line, in order, and from each on the longest closing run of each character: a fence
  // opened before closing line k closes when its length is at most the longest run from k on.
  const at: number[] = [];
  const longestBackticks: number[] = [];
  const longestTildes: number[] = [];
  for (let i = 0; i <= text.length; ) {
    const c = text.charCodeAt(i);
    if (c === BACKTICK || c === TILDE) {
      const length = closingRun(text, i, c);
      if (length > 0) {
        at.push(i);
        longestBackticks.push(c === BACKTICK ? length : 0);
        longestTildes.push(c === TILDE ? length : 0);
      }
    }
    const nl = text.indexOf('\n', i);
    if (nl === -1) break;
    i = nl + 1;
  }
  for (let k = at.length - 2; k >= 0; k--) {
    longestBackticks[k] = Math.max(longestBackticks[k]!, longestBackticks[k + 1]!);
    longestTildes[k] = Math.max(longestTildes[k]!, longestTildes[k + 1]!);
  }
  // Lines are asked about in order: the first closing line after the one asked about moves forward only.
  let next = 0;
  return {
    openedAt(from) {
      const fence = openerAt(text, from);
      if (!fence) return undefined;
      while (next < at.length && at[next]! <= from) next++;
      const longest = fence.char === BACKTICK ? longestBackticks : longestTildes;
      return next < at.length && longest[next]! >= fence.length ? fence : undefined;
    },
    closes: (from, fence) => closes(text, from, fence),
  };
}

/** The fence an opening line from `at` would open, closed later or not. */
function openerAt(text: string, at: number): Fence | undefined {
  const char = text.charCodeAt(at);
  if (char !== BACKTICK && char !== TILDE) return undefined;
  const length = runOf(text, at, char);
  if (length < 3) return undefined;
  if (char === BACKTICK) {
    const nl = text.indexOf('\n', at + length);
    const backtick = text.indexOf('`', at + length);
    if (backtick !== -1 && (nl === -1 || backtick < nl)) return undefined;
  }
  return { char, length };
}

const closes = (text: string, at: number, fence: Fence): boolean =>
  closingRun(text, at, fence.char) >= fence.length;
