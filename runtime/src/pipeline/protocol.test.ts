import { describe, expect, it } from 'vitest';
import { parseAnswer } from './protocol.ts';

describe('parseAnswer', () => {
  it('keeps the text on the CONTENT line itself (the guide example forwards "Quick")', () => {
    expect(parseAnswer('FORWARD_TO: next\nCONTENT: Quick')).toEqual({
      forwards: [{ targets: ['next'], content: 'Quick' }],
      results: [],
      backward: undefined,
    });
  });

  it('joins multi-line CONTENT up to the next directive', () => {
    const a = parseAnswer('FORWARD_TO: a, b\nCONTENT: line one\nline two\n\nline three\nRESULT: done');
    expect(a.forwards).toEqual([{ targets: ['a', 'b'], content: 'line one\nline two\n\nline three' }]);
    expect(a.results).toEqual(['done']);
  });

  it('treats an answer without directives as one result', () => {
    expect(parseAnswer('  just text\nmore  ').results).toEqual(['just text\nmore']);
    expect(parseAnswer('   ').results).toEqual([]);
  });

  it('is case-sensitive and column-0 only', () => {
    const a = parseAnswer('forward_to: x\n FORWARD_TO: y\nplain');
    expect(a.forwards).toEqual([]);
    expect(a.results).toEqual(['forward_to: x\n FORWARD_TO: y\nplain']);
  });

  it('pairs each FORWARD_TO with the CONTENT after it', () => {
    const a = parseAnswer('FORWARD_TO: a\nCONTENT: for a\nFORWARD_TO: b\nCONTENT: for b');
    expect(a.forwards).toEqual([
      { targets: ['a'], content: 'for a' },
      { targets: ['b'], content: 'for b' },
    ]);
  });

  it('reads targets from the FORWARD_TO line alone: prose after it names no neuron, nor does a bare name', () => {
    const prose = parseAnswer(
      'FORWARD_TO: b\nPlease refine the API design, then hand it to e.\nCONTENT: the spec',
    );
    expect(prose.forwards).toEqual([{ targets: ['b'], content: 'the spec' }]);
    const bare = parseAnswer('FORWARD_TO: zz\ne\nCONTENT: the spec');
    expect(bare.forwards).toEqual([{ targets: ['zz'], content: 'the spec' }]);
    expect(parseAnswer('BACKWARD_TO: a\nb\nERROR_TYPE: X').backward).toEqual({
      targets: ['a'],
      errorType: 'X',
    });
  });

  it('reads no target from an empty FORWARD_TO or BACKWARD_TO line: the next line is not its own', () => {
    expect(parseAnswer('FORWARD_TO:\ndesign-1').forwards).toEqual([{ targets: [], content: undefined }]);
    expect(parseAnswer('FORWARD_TO: \n\nreview this, then ship\nRESULT: r').forwards[0]!.targets).toEqual([]);
    expect(parseAnswer('FORWARD_TO:\r\na, b\nCONTENT: c').forwards[0]!.targets).toEqual([]);
    expect(parseAnswer('BACKWARD_TO:\nb\nERROR_TYPE: X').backward).toEqual({ targets: [], errorType: 'X' });
    expect(parseAnswer('BACKWARD_TO: up-1 \nERROR_TYPE: X').backward?.targets).toEqual(['up-1']);
  });

  it('passes the content through when FORWARD_TO has no CONTENT', () => {
    expect(parseAnswer('FORWARD_TO: a').forwards).toEqual([{ targets: ['a'], content: undefined }]);
  });

  it('reads a blank CONTENT as none: the first other CONTENT, else the incoming content, goes on', () => {
    expect(parseAnswer('FORWARD_TO: a\nCONTENT:   \nFORWARD_TO: b\nCONTENT: for b').forwards).toEqual([
      { targets: ['a'], content: 'for b' },
      { targets: ['b'], content: 'for b' },
    ]);
    expect(parseAnswer('CONTENT:\nFORWARD_TO: a\nCONTENT: \t').forwards).toEqual([
      { targets: ['a'], content: undefined },
    ]);
  });

  it('makes CONTENT the result when the answer neither forwards nor results', () => {
    expect(parseAnswer('CONTENT: the design\nin two lines\nCONTENT:\nCONTENT: more').results).toEqual([
      'the design\nin two lines',
      'more',
    ]);
    expect(parseAnswer('CONTENT: kept for the forward\nFORWARD_TO: a').results).toEqual([]);
    expect(parseAnswer('CONTENT: not a result\nRESULT: the result').results).toEqual(['the result']);
  });

  it('parses multi-line RESULT and several results', () => {
    expect(parseAnswer('preamble\nRESULT: one\ncontinued\nRESULT: two').results).toEqual([
      'one\ncontinued',
      'two',
    ]);
  });

  it('reads a blank RESULT as none: alone, the answer has no result (unroutable, never cached)', () => {
    expect(parseAnswer('RESULT:').results).toEqual([]);
    expect(parseAnswer('RESULT:   \n  \n').results).toEqual([]);
    expect(parseAnswer('RESULT:\nRESULT: kept').results).toEqual(['kept']);
    expect(parseAnswer('RESULT:\nCONTENT: has nowhere to go').results).toEqual(['has nowhere to go']);
  });

  it('reads a fenced code block as data: a directive quoted in it neither routes nor splits its block', () => {
    const quoted =
      'RESULT: here is the config\n```yaml\nFORWARD_TO: design-1\nRESULT: not-a-result\n```\nthat is all';
    const p = parseAnswer(quoted);
    expect(p.forwards).toEqual([]);
    expect(p.results).toEqual([
      'here is the config\n```yaml\nFORWARD_TO: design-1\nRESULT: not-a-result\n```\nthat is all',
    ]);
    // A fence opened on the directive's own line, and ~~~ fences; after the fence, directives count again.
    const opened = parseAnswer('CONTENT: ~~~\nFORWARD_TO: x\n~~~\nFORWARD_TO: impl');
    expect(opened.forwards.map((f) => [f.targets, f.content])).toEqual([
      [['impl'], '~~~\nFORWARD_TO: x\n~~~'],
    ]);
    // Before any directive, a fenced directive is data too: the whole answer is the result.
    expect(parseAnswer('```\nRESULT: a\n```').results).toEqual(['```\nRESULT: a\n```']);
  });

  it('opens and closes fences as CommonMark does', () => {
    // Backticks closed on the same line are inline code: the directives after it route.
    const inline = parseAnswer('```js x=1```\nFORWARD_TO: x\nCONTENT: c');
    expect(inline.forwards).toEqual([{ targets: ['x'], content: 'c' }]);
    expect(parseAnswer('RESULT: ```a``` b\nFORWARD_TO: x').forwards.map((f) => f.targets)).toEqual([['x']]);
    // A fence closes only on a line of its own character, at least as long, with nothing after it.
    for (const notClosing of ['~~~', '``', '```js', '``` x']) {
      const p = parseAnswer(
        `RESULT: \`\`\`\nFORWARD_TO: x\n${notClosing}\nFORWARD_TO: y\n\`\`\`\nFORWARD_TO: z`,
      );
      expect(p.forwards.map((f) => f.targets)).toEqual([['z']]);
    }
    const longer = parseAnswer('RESULT: ````\n```\nFORWARD_TO: x\n```\n````  \nFORWARD_TO: z');
    expect(longer.forwards.map((f) => f.targets)).toEqual([['z']]);
    expect(longer.misread).toBeUndefined();
  });

  it('reads a fence that no later line closes as text: the directives after it route', () => {
    // Forgotten: the result is what the line held, and the forward is made.
    const p = parseAnswer('RESULT: ```\nthe plan\nFORWARD_TO: x\nCONTENT: c');
    expect(p.results).toEqual(['```\nthe plan']);
    expect(p.forwards).toEqual([{ targets: ['x'], content: 'c' }]);
    expect(p.misread).toBeUndefined();
    // A Markdown file quoted with nested fences of one length: the inner ``` closes the outer, the last
    // ``` closes nothing later.
    const nested = parseAnswer(
      'RESULT: Here is a README:\n```markdown\n# Title\n```js\ncode\n```\n```\nFORWARD_TO: impl-a\nCONTENT: build it',
    );
    expect(nested.forwards).toEqual([{ targets: ['impl-a'], content: 'build it' }]);
    // Closed, the same lines are quoted data.
    expect(parseAnswer('RESULT: ```\nFORWARD_TO: x\n```').forwards).toEqual([]);
    // An answer the model did not finish: the fence it left open is one it meant to close.
    expect(parseAnswer('RESULT: ```\nthe plan\nFORWARD_TO: x\nCONTENT: c', true)).toMatchObject({
      forwards: [],
      results: ['```\nthe plan\nFORWARD_TO: x\nCONTENT: c'],
    });
    // A fence closes at its first closing line, not at the last one.
    const first = parseAnswer('RESULT: ~~~\nFORWARD_TO: a\n~~~\nFORWARD_TO: b\n~~~~\nFORWARD_TO: c');
    expect(first.forwards.map((f) => f.targets)).toEqual([['b'], ['c']]);
  });

  it('parses BACKWARD_TO with ERROR_TYPE', () => {
    expect(parseAnswer('BACKWARD_TO: up-1\nERROR_TYPE: Timeout').backward).toEqual({
      targets: ['up-1'],
      errorType: 'Timeout',
    });
  });

  describe('notes lines written as directives that are not read as one', () => {
    const meant: [string, string][] = [
      ['a full-width colon', 'FORWARD_TO\uff1aimpl'],
      ['a byte order mark', '\ufeffFORWARD_TO: impl'],
      ['Markdown bold', '**FORWARD_TO:** impl'],
      ['bold around the name', '**FORWARD_TO**: impl'],
      ['a heading', '# RESULT: done'],
      ['a list item', '- CONTENT: the plan'],
      ['lower case', 'forward_to: impl'],
      ['a space before the colon', 'ERROR_TYPE : Timeout'],
      ['mixed case with an underscore', 'Backward_To: lead'],
    ];
    it.each(meant)('%s', (_, line) => {
      const p = parseAnswer(`${line}\nCONTENT: the plan`);
      expect(p.misread).toEqual({ lines: [line], count: 1 });
      // Read as it stands: the line is not a directive, so the CONTENT is the result.
      expect(p.forwards).toEqual([]);
    });

    const prose: [string, string][] = [
      ['Result in prose', 'Result: 42 tests pass'],
      ['Content in prose', 'Content: see above'],
      ['an indented directive (quoted as data)', ' FORWARD_TO: impl'],
      ['a name run on', 'RESULTS: many'],
      ['a directive', 'FORWARD_TO: impl'],
    ];
    it.each(prose)('but not %s', (_, line) => {
      expect(parseAnswer(`${line}\nRESULT: ok`).misread).toBeUndefined();
    });

    it('but not, in a directive’s text, a name in lower case, nor any line of fenced code', () => {
      // A RESULT holding YAML whose keys look like directives: data, not routing.
      const yaml =
        'RESULT: the config\n```yaml\nerror_type: timeout\nforward_to: audit-log\nFORWARD_TO\uff1a x\n```';
      expect(parseAnswer(yaml).misread).toBeUndefined();
      expect(parseAnswer('RESULT: done\nforward_to: audit-log').misread).toBeUndefined();
      // Before the first directive, and in capitals anywhere outside a fence, they still count.
      expect(parseAnswer('forward_to: x\nRESULT: done').misread?.count).toBe(1);
      expect(parseAnswer('RESULT: done\n**FORWARD_TO:** x').misread?.count).toBe(1);
    });

    it('quotes the first three, cut to 63 characters, and counts the rest', () => {
      const long = `forward_to: ${'x'.repeat(100)}`;
      const p = parseAnswer([long, 'RESULT: ok', '**RESULT:** a', '# RESULT: b', '- RESULT: c'].join('\n'));
      expect(p.misread).toEqual({
        lines: [`${long.slice(0, 63)}…`, '**RESULT:** a', '# RESULT: b'],
        count: 4,
      });
      expect(p.results).toEqual(['ok\n**RESULT:** a\n# RESULT: b\n- RESULT: c']);
    });
  });
});
