import { describe, expect, it } from 'vitest';
import { MAX_ANSWER_TAG_CHARS } from '../claude/completion-of.ts';
import { traceEntry } from '../pipeline/trace-entry.ts';
import { neuronConfig, signalTo } from '../testing/builders.ts';
import { peerAnswerChecks } from './peer-answer.ts';
import {
  MAX_PEER_ANSWER_BYTES,
  MAX_PEER_LINE_BYTES,
  type PeerProgress,
  readPeerAnswer,
} from './read-peer-answer.ts';

// A streamed answer (NDJSON) read as undici hands it over: chunks cut anywhere, several lines in one
// chunk, one line over many. The reader searches only each new chunk for a line's end.

const target = neuronConfig('impl', 'L2', [], { endpoint: 'http://127.0.0.1:1' });
const result = (content: string) => ({ i: 0, result: { neuron: 'impl', layer: 'L2', content } });

async function read(chunks: readonly Buffer[], count = 2) {
  const got: [number, string | undefined][] = [];
  const res = {
    statusCode: 200,
    headers: { 'content-type': 'application/x-ndjson' },
    body: (async function* () {
      yield* chunks;
    })(),
  } as unknown as Parameters<typeof readPeerAnswer>[1];
  const outcomes = await readPeerAnswer(
    target,
    res,
    count,
    (i: number, p: PeerProgress) => got.push([i, p.result?.content]),
    peerAnswerChecks(),
    MAX_PEER_ANSWER_BYTES,
  );
  return { got, outcomes };
}

/** `text` cut into pieces of `size` bytes (a cut may fall inside a character). */
const cut = (text: string, size: number): Buffer[] => {
  const b = Buffer.from(text);
  const out: Buffer[] = [];
  for (let at = 0; at < b.length; at += size) out.push(b.subarray(at, at + size));
  return out;
};

describe('readPeerAnswer, streamed', () => {
  const long = `${'界'.repeat(3000)}x`;
  const lines = [
    JSON.stringify(result(long)),
    JSON.stringify({ ...result('short'), i: 1 }),
    JSON.stringify({ ...result('third'), i: 0 }),
    JSON.stringify({ errors: [[], [{ code: 'QUEUE_FULL', message: 'full' }]] }),
  ];
  const text = `${lines.join('\n')}\n`;

  it.each([1, 7, 64, 4096, text.length * 4])(
    'reads every line in order, in chunks of %i bytes',
    async (size) => {
      const { got, outcomes } = await read(cut(text, size));
      expect(got).toEqual([
        [0, long],
        [1, 'short'],
        [0, 'third'],
      ]);
      expect(outcomes.map((o) => o.errors.map((e) => e.code))).toEqual([[], ['QUEUE_FULL']]);
    },
  );

  it('refuses a trace entry sent twice for one signal, and a line after the outcomes', async () => {
    const entry = traceEntry(signalTo('impl', { id: 's1' }), neuronConfig('impl'), false, 1, [], []);
    const trace = JSON.stringify({ i: 0, trace: entry });
    const end = JSON.stringify({ errors: [[], []] });
    expect((await read([Buffer.from(`${trace}\n${end}\n`)])).outcomes).toHaveLength(2);
    await expect(read([Buffer.from(`${trace}\n${trace}\n${end}\n`)])).rejects.toThrow(
      'a line repeats the trace entry of signal "s1"',
    );
    await expect(read([Buffer.from(`${end}\n${trace}\n`)])).rejects.toThrow('a line came after the outcomes');
  });

  it('reads a last line that has no line end', async () => {
    const { outcomes } = await read(cut(text.slice(0, -1), 5));
    expect(outcomes).toHaveLength(2);
  });

  it('refuses a line longer than MAX_PEER_LINE_BYTES, however it is cut, and names the limit', async () => {
    const piece = Buffer.alloc(1024 * 1024, 'x');
    const chunks = Array.from({ length: MAX_PEER_LINE_BYTES / piece.length + 1 }, () => piece);
    await expect(read([Buffer.from('{"i":0,"result":"'), ...chunks])).rejects.toThrow(
      `a line is longer than ${MAX_PEER_LINE_BYTES} bytes`,
    );
  });

  it('refuses a line past the bound that ends inside a chunk, the first of it or a later one', async () => {
    const end = `${JSON.stringify({ errors: [[], []] })}\n`;
    const rest = Buffer.concat([Buffer.alloc(MAX_PEER_LINE_BYTES, 'x'), Buffer.from(`"}}\n${end}`)]);
    await expect(read([Buffer.from('{"i":0,"result":{"content":"'), rest])).rejects.toThrow(
      `a line is longer than ${MAX_PEER_LINE_BYTES} bytes`,
    );
    // One chunk: a short line, then one past the bound, then the outcomes.
    const one = Buffer.concat([
      Buffer.from(
        `${JSON.stringify(result('short'))}\n{"i":0,"result":{"neuron":"impl","layer":"L2","content":"`,
      ),
      Buffer.alloc(MAX_PEER_LINE_BYTES, 'x'),
      Buffer.from(`"}}\n${end}`),
    ]);
    await expect(read([one])).rejects.toThrow(`a line is longer than ${MAX_PEER_LINE_BYTES} bytes`);
  });

  it('counts a line’s bytes, not its characters: a line of 3-byte characters meets the same bound', async () => {
    // 17 MiB of € (3 bytes each): under 6 million characters, far below the bound counted in characters.
    const piece = Buffer.alloc(3 * 349_525, '€');
    const chunks = Array.from({ length: 17 }, () => piece);
    await expect(read([Buffer.from('{"i":0,"result":"'), ...chunks])).rejects.toThrow(
      `a line is longer than ${MAX_PEER_LINE_BYTES} bytes`,
    );
    // Bytes after the last line end are the next line's only: many lines that add up past the bound are read.
    const line = `${JSON.stringify({ i: 0, result: { neuron: 'impl', layer: 'L2', content: '€'.repeat(300_000) } })}\n`;
    const many = Buffer.from(line.repeat(20));
    const end = Buffer.from(`${JSON.stringify({ errors: [[], []] })}\n`);
    const { got } = await read([...cut(many.toString(), 1_000_003), end]);
    expect(got).toHaveLength(20);
  });
});

describe('readPeerAnswer, JSON', () => {
  const answer = (outcomes: unknown) =>
    ({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: (async function* () {
        yield Buffer.from(JSON.stringify({ outcomes }));
      })(),
    }) as unknown as Parameters<typeof readPeerAnswer>[1];
  const read = (outcomes: unknown, count: number) =>
    readPeerAnswer(target, answer(outcomes), count, undefined, peerAnswerChecks(), MAX_PEER_ANSWER_BYTES);

  it('refuses a trace entry repeated for one signal, within an outcome or across a batch’s outcomes', async () => {
    const entry = traceEntry(signalTo('impl', { id: 's1' }), neuronConfig('impl'), false, 1, [], []);
    const other = traceEntry(signalTo('impl', { id: 's2' }), neuronConfig('impl'), false, 1, [], []);
    const outcome = (...trace: unknown[]) => ({ results: [], trace, errors: [] });
    expect(await read([outcome(entry), outcome(other)], 2)).toHaveLength(2);
    await expect(read([outcome(entry, entry, entry)], 1)).rejects.toThrow(
      'the trace entry of signal "s1" repeats',
    );
    await expect(read([outcome(entry), outcome(entry)], 2)).rejects.toThrow(
      'the trace entry of signal "s1" repeats',
    );
  });

  it('refuses a responseModel longer than a back-end keeps (MAX_ANSWER_TAG_CHARS)', async () => {
    const entry = traceEntry(signalTo('impl', { id: 's1' }), neuronConfig('impl'), false, 1, [], []);
    const outcome = (responseModel: string) => ({
      results: [],
      trace: [{ ...entry, responseModel }],
      errors: [],
    });
    expect(await read([outcome('m'.repeat(MAX_ANSWER_TAG_CHARS))], 1)).toHaveLength(1);
    await expect(read([outcome('m'.repeat(MAX_ANSWER_TAG_CHARS + 1))], 1)).rejects.toThrow(
      `must NOT have more than ${MAX_ANSWER_TAG_CHARS} characters`,
    );
  });
});
