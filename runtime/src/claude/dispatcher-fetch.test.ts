import { describe, expect, it } from 'vitest';
import { AnswerHeaders } from './dispatcher-fetch.ts';

// The answer's headers as the SDK reads them (anthropic.test.ts has the fetch itself, through the
// SDK against the local fake).

describe('AnswerHeaders', () => {
  it('gives the SDK headers that answer as a WHATWG Headers does', () => {
    const raw = { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'], 'x-gone': undefined };
    const ours = new AnswerHeaders(raw);
    const web = new Headers([
      ['content-type', 'application/json'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
    for (const name of ['content-type', 'Content-Type', 'x-gone', 'set-cookie'])
      expect([name, ours.get(name), ours.has(name)]).toEqual([name, web.get(name), web.has(name)]);
    expect(Object.fromEntries(ours.entries())).toEqual({
      'content-type': 'application/json',
      'set-cookie': 'a=1, b=2',
    });
  });
});
