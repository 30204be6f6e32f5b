import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ParsedAnswer, parseAnswer } from './protocol.ts';

// Properties of the routing protocol (README "The routing protocol") over generated answers: model
// answers are arbitrary text, so the parser must never throw and must read every directive line.

const DIRECTIVES = ['FORWARD_TO', 'CONTENT', 'RESULT', 'BACKWARD_TO', 'ERROR_TYPE'] as const;
/** A line ends at \r\n, \n or a lone \r; any other character (U+2028 included) is text. */
const BREAK = /\r\n|\r|\n/;
const directiveOf = (line: string) => DIRECTIVES.find((d) => line.startsWith(`${d}:`));
/** The fence a line opens, CommonMark's way: ``` (no backtick after) or ~~~, three or more. */
const fenceOf = (s: string) => /^(`{3,})[^`]*$/.exec(s)?.[1] ?? /^(~{3,})/.exec(s)?.[1];
const closes = (s: string, fence: string) => new RegExp(`^${fence[0]}{${fence.length},}[ \t]*$`).test(s);
/**
 * Each line with the directive it opens, told apart another way: a fenced code block (at a line's
 * start, or right after a directive's colon and one space or tab) is data, directives too, up to a
 * line closing it; an opening line that no later line closes opens nothing.
 */
const readLines = (
  answer: string,
): { line: string; directive: string | undefined; fenced: boolean; opens: boolean }[] => {
  const all = answer.split(BREAK);
  const closedAfter = (i: number, fence: string | undefined) =>
    fence !== undefined && all.slice(i + 1).some((l) => closes(l, fence));
  let fence: string | undefined;
  return all.map((line, i) => {
    const d = fence ? undefined : directiveOf(line);
    const was = fence !== undefined;
    let opened: string | undefined;
    if (d) {
      const rest = line.slice(d.length + 1);
      opened = fenceOf(/^[ \t]/.test(rest) ? rest.slice(1) : rest);
    } else if (fence) {
      if (closes(line, fence)) fence = undefined;
    } else opened = fenceOf(line);
    const opens = !was && closedAfter(i, opened);
    if (opens) fence = opened;
    return { line, directive: d, fenced: was, opens };
  });
};
const count = (answer: string, d: string) => readLines(answer).filter((l) => l.directive === d).length;
const normalised = (s: string) => s.split(BREAK).join('\n');

const fragment = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
  fc.constantFrom(...DIRECTIVES.map((d) => `${d}:`)),
  fc.constantFrom('forward_to:', ' RESULT:', 'CONTENT :', 'RESULT:\t', 'FORWARD_TO: ,', ', ,', ','),
  fc.constantFrom(
    '**FORWARD_TO:**',
    '# RESULT:',
    'FORWARD_TO\uff1a',
    'Result:',
    'content:',
    '- Error_Type :',
    '```',
    '~~~yaml',
    '````',
    '```js x```',
    '~~~',
    '~~~~',
    '``` \t',
  ),
  fc.constantFrom(' ', '\t', '\u00a0', '\u2028', '\u2029', '\u0085', '\ufeff', '\u0000', '\ud800', '😀', 'é'),
  fc.constantFrom('\r', '\n', '\r\n', '\r\r\n'),
);
const line = fc.array(fragment, { maxLength: 6 }).map((a) => a.join(''));
const sep = fc.constantFrom('\n', '\r\n', '\r', '\r\r\n', '\n\n', '\u2028');
const answer = fc.array(fc.tuple(line, sep), { maxLength: 24 }).map((xs) => xs.flat().join(''));

// Counterexamples found here once (a lone \r or a trailing \r hid a directive line), kept as examples.
const FOUND: [string][] = [
  ['FORWARD_TO:\nFORWARD_TO:\rforward_to:\n'],
  ['FORWARD_TO:\r\r\n'],
  ['forward_to:\nFORWARD_TO:\r\r\n\n'],
  ['RESULT: a\u2028b\nFORWARD_TO: x\u2029'],
  // Fences: an unclosed one (it opens nothing) before a directive, and an indented one a trim brings to a line's start.
  ['```\nFORWARD_TO: ,\n'],
  ['```\nFORWARD_TO:\n'],
  ['RESULT:\n ~~~yaml\nRESULT:\u0000\n'],
  // Inline code is no fence; a shorter run or the other character does not close one.
  ['```js x```\nFORWARD_TO: a\n'],
  ['````\n```\nFORWARD_TO: a\n~~~~\n````\nRESULT: b\n'],
  // Nested fences of one length: the last ``` closes nothing later, so it opens nothing.
  ['RESULT: x\n```markdown\n```js\ncode\n```\n```\nFORWARD_TO: a\n'],
  ['``` FORWARD_TO: a\n'],
];
const RUNS = { numRuns: 2000, examples: FOUND };

function everyTarget(p: ParsedAnswer): string[] {
  return [...p.forwards.flatMap((f) => f.targets), ...(p.backward?.targets ?? [])];
}

describe('parseAnswer over generated answers', () => {
  it('never throws; targets are trimmed, non-empty, without commas or line breaks, and quoted from the answer', () => {
    fc.assert(
      fc.property(answer, (a) => {
        const p = parseAnswer(a);
        for (const t of everyTarget(p)) {
          expect(t).toBe(t.trim());
          expect(t).not.toBe('');
          expect(t).not.toMatch(/[,\r\n]/);
          expect(a).toContain(t);
        }
        for (const r of p.results) expect(r).toBe(r.trim());
        for (const f of p.forwards) if (f.content !== undefined) expect(f.content).toBe(f.content.trim());
        if (p.backward) expect(p.backward.errorType).not.toBe('');
      }),
      RUNS,
    );
  });

  it('reads every directive line: one forward per FORWARD_TO line, at most one result per RESULT line', () => {
    fc.assert(
      fc.property(answer, (a) => {
        const p = parseAnswer(a);
        const directives = readLines(a).filter((l) => l.directive !== undefined).length;
        if (directives === 0) {
          // No directive: the whole answer is the one result.
          expect({ forwards: p.forwards, results: p.results, backward: p.backward }).toEqual({
            forwards: [],
            results: a.trim() === '' ? [] : [a.trim()],
            backward: undefined,
          });
          return;
        }
        expect(p.forwards).toHaveLength(count(a, 'FORWARD_TO'));
        // One result per RESULT that is not blank; with no forward and no such result, one per
        // CONTENT that is not blank (it has nowhere else to go). Each quoted from the answer.
        if (count(a, 'FORWARD_TO') > 0) expect(p.results.length).toBeLessThanOrEqual(count(a, 'RESULT'));
        else expect(p.results.length).toBeLessThanOrEqual(count(a, 'RESULT') + count(a, 'CONTENT'));
        for (const r of p.results) {
          expect(r.trim()).not.toBe('');
          expect(normalised(a)).toContain(r);
        }
        expect(p.backward !== undefined).toBe(count(a, 'BACKWARD_TO') > 0);
        // Content is given to a forward only when the answer has a CONTENT line, and never blank
        // (a blank CONTENT counts as none).
        const hasContent = count(a, 'CONTENT') > 0;
        for (const f of p.forwards) {
          if (!hasContent) expect(f.content).toBeUndefined();
          else if (f.content !== undefined) expect(f.content.trim()).not.toBe('');
        }
      }),
      RUNS,
    );
  });

  // Misread lines, told apart another way: the line's marks taken off one by one, then its name and colon.
  const NAMES = ['FORWARD_TO', 'BACKWARD_TO', 'ERROR_TYPE'];
  const COLONS = ':\uff1a\ufe55\ufe13\ua789\u2236';
  function meantAsDirective(l: string, inText: boolean): boolean {
    if (directiveOf(l)) return false;
    let rest = l.startsWith('\ufeff') ? l.slice(1) : l;
    const marks = rest.match(/^[*_#>`~-]+/)?.[0] ?? '';
    rest = rest.slice(marks.length);
    if (marks) rest = rest.replace(/^[ \t]+/, '');
    // Names with an underscore in any case before the first directive; in a directive's text, capitals only.
    const name = [...NAMES, 'CONTENT', 'RESULT'].find((n) =>
      NAMES.includes(n) && !inText ? rest.toUpperCase().startsWith(n) : rest.startsWith(n),
    );
    if (!name) return false;
    rest = rest
      .slice(name.length)
      .replace(/^[*_`]+/, '')
      .replace(/^[ \t]+/, '');
    return rest !== '' && COLONS.includes(rest[0]!);
  }

  /** The answer's lines meant as directives: outside fenced code, by whether a directive came before. */
  function meantLines(a: string): string[] {
    let inText = false;
    return readLines(a).flatMap(({ line, directive, fenced, opens }) => {
      if (directive) {
        inText = true;
        return [];
      }
      return !fenced && !opens && meantAsDirective(line, inText) ? [line] : [];
    });
  }

  it('counts every line meant as a directive and not read as one, quoting the first three', () => {
    fc.assert(
      fc.property(answer, (a) => {
        const meant = meantLines(a);
        const p = parseAnswer(a);
        if (meant.length === 0) {
          expect(p.misread).toBeUndefined();
          return;
        }
        expect(p.misread?.count).toBe(meant.length);
        expect(p.misread?.lines).toEqual(
          meant.slice(0, 3).map((l) => (l.length > 63 ? `${l.slice(0, 63)}…` : l)),
        );
      }),
      RUNS,
    );
  });

  it('re-parses its own RESULT texts to the same results', () => {
    fc.assert(
      fc.property(answer, (a) => {
        const results = parseAnswer(a).results;
        // A result holding a fence marker at a line's start is not re-rendered by prefixing `RESULT: `:
        // a fence is structure (trimmed, an indented ~~~ comes to a line's start and opens one).
        fc.pre(results.every((r) => !r.split(BREAK).some((l) => l.startsWith('```') || l.startsWith('~~~'))));
        const again = parseAnswer(results.map((r) => `RESULT: ${r}`).join('\n')).results;
        expect(again).toEqual(results.map(normalised));
      }),
      RUNS,
    );
  });

  // Structured answers: what is rendered is what is parsed back.
  const name = fc.oneof(
    fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/),
    fc
      .string({ unit: 'binary', minLength: 1, maxLength: 12 })
      .map((s) => s.replace(/[,\r\n]/g, '').trim())
      .filter((s) => s !== ''),
  );
  const text = fc
    .array(
      fc.string({ unit: 'binary', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, ' ')),
      { minLength: 1, maxLength: 4 },
    )
    .map((ls) => ls.join('\n').trim())
    .filter((t) => t !== '' && t.split('\n').every((l) => directiveOf(l) === undefined));
  type Item =
    | { kind: 'forward'; targets: string[]; content: string | undefined }
    | { kind: 'result'; text: string };
  const item: fc.Arbitrary<Item> = fc.oneof(
    fc.record({
      kind: fc.constant('forward' as const),
      targets: fc.array(name, { minLength: 1, maxLength: 4 }),
      content: fc.option(text, { nil: undefined }),
    }),
    fc.record({ kind: fc.constant('result' as const), text }),
  );
  const render = (items: Item[], nl: string) =>
    items
      .flatMap((i) =>
        i.kind === 'result'
          ? [`RESULT: ${i.text}`]
          : [
              `FORWARD_TO: ${i.targets.join(', ')}`,
              ...(i.content === undefined ? [] : [`CONTENT: ${i.content}`]),
            ],
      )
      .join(nl);

  it('parses a rendered answer back to its forwards (own CONTENT, else the first) and results', () => {
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), fc.constantFrom('\n', '\r\n', '\r'), (items, nl) => {
        const forwards = items.filter((i) => i.kind === 'forward');
        const first = forwards.find((f) => f.content !== undefined)?.content;
        expect(parseAnswer(render(items, nl))).toEqual({
          forwards: forwards.map((f) => ({ targets: f.targets, content: f.content ?? first })),
          results: items.flatMap((i) => (i.kind === 'result' ? [i.text] : [])),
          backward: undefined,
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('reads huge repeated directives one by one (no de-duplication here: the budgets do that)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20_000 }),
        fc.constantFrom('FORWARD_TO: design-1', 'FORWARD_TO:', 'FORWARD_TO: ,,,', 'RESULT: x', 'CONTENT:'),
        sep,
        (n, directive, nl) => {
          const p = parseAnswer(`${directive}${nl}`.repeat(n));
          const breaks = nl === '\u2028' ? 1 : n;
          if (directive.startsWith('FORWARD_TO')) {
            expect(p.forwards).toHaveLength(breaks);
            const expected = directive === 'FORWARD_TO: design-1' ? ['design-1'] : [];
            if (breaks === n) for (const f of p.forwards) expect(f.targets).toEqual(expected);
          }
          if (directive.startsWith('RESULT')) expect(p.results).toHaveLength(breaks);
        },
      ),
      { numRuns: 20 },
    );
  });
});
