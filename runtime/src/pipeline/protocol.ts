// The routing protocol: how a neuron's text answer says where the signal goes next.
// Directives start at column 0 and are case-sensitive; a directive's text is the rest of its own
// line plus every following line up to the next directive (the original dropped the inline text).
// A line ends at \r\n, \n or a lone \r; every other character (U+2028 included) is text, so no
// line that starts with a directive is ever read as the previous directive's text.

const DIRECTIVES = ['FORWARD_TO', 'CONTENT', 'RESULT', 'BACKWARD_TO', 'ERROR_TYPE'] as const;
type Directive = (typeof DIRECTIVES)[number];

interface Block {
  readonly directive: Directive;
  readonly text: string;
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
}

const DIRECTIVE_LINE = /^(FORWARD_TO|CONTENT|RESULT|BACKWARD_TO|ERROR_TYPE):[ \t]?(.*)$/s;

function blocks(answer: string): Block[] {
  const out: { directive: Directive; lines: string[] }[] = [];
  for (const line of answer.split(/\r\n|\r|\n/)) {
    const m = DIRECTIVE_LINE.exec(line);
    if (m) out.push({ directive: m[1] as Directive, lines: [m[2] ?? ''] });
    else out.at(-1)?.lines.push(line);
  }
  return out.map((b) => ({ directive: b.directive, text: b.lines.join('\n').trim() }));
}

const targetList = (text: string): string[] =>
  text
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter((t) => t !== '');

export function parseAnswer(answer: string): ParsedAnswer {
  const bs = blocks(answer);
  if (bs.length === 0) {
    const whole = answer.trim();
    return { forwards: [], results: whole === '' ? [] : [whole], backward: undefined };
  }
  const forwards: Forward[] = [];
  const results: string[] = [];
  const firstContent = bs.find((b) => b.directive === 'CONTENT')?.text;
  bs.forEach((b, i) => {
    if (b.directive === 'RESULT') results.push(b.text);
    if (b.directive !== 'FORWARD_TO') return;
    // A FORWARD_TO takes the CONTENT that follows it (before the next FORWARD_TO), else the answer's first.
    let content: string | undefined;
    for (let j = i + 1; j < bs.length && bs[j]!.directive !== 'FORWARD_TO'; j++) {
      if (bs[j]!.directive === 'CONTENT') {
        content = bs[j]!.text;
        break;
      }
    }
    forwards.push({ targets: targetList(b.text), content: content ?? firstContent });
  });
  const back = bs.find((b) => b.directive === 'BACKWARD_TO');
  const backward = back
    ? {
        targets: targetList(back.text),
        errorType: bs.find((b) => b.directive === 'ERROR_TYPE')?.text || 'Unknown',
      }
    : undefined;
  return { forwards, results, backward };
}
