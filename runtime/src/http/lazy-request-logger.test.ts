import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LazyRequestLogger, lazyChildLogger } from './lazy-request-logger.ts';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('LazyRequestLogger', () => {
  it('makes no pino child until the request logs, then logs with the request bindings', () => {
    const { logger, lines } = capture();
    const log = lazyChildLogger(logger, { reqId: 'req-7' }, {}) as LazyRequestLogger;
    expect(log.materialized).toBe(false);
    log.info({ tuning: { max: 3 } }, 'changed');
    expect(log.materialized).toBe(true);
    expect(lines).toEqual([
      expect.objectContaining({ reqId: 'req-7', tuning: { max: 3 }, msg: 'changed', level: 30 }),
    ]);
  });

  it('keeps the bindings of a child taken from it, and stays lazy until that child logs', () => {
    const { logger, lines } = capture();
    const request = new LazyRequestLogger(logger, { reqId: 'req-8' });
    const client = request.child({ client: 'team-a' });
    expect(request.materialized).toBe(false);
    client.warn('slow');
    request.error(new Error('boom'));
    expect(lines).toEqual([
      expect.objectContaining({ reqId: 'req-8', client: 'team-a', msg: 'slow', level: 40 }),
      expect.objectContaining({
        reqId: 'req-8',
        level: 50,
        err: expect.objectContaining({ message: 'boom' }),
      }),
    ]);
    expect(lines[1]).not.toHaveProperty('client');
  });

  it("answers the parent's level and drops lines below it", () => {
    const { logger, lines } = capture('warn');
    const log = new LazyRequestLogger(logger, { reqId: 'req-9' });
    expect(log.level).toBe('warn');
    log.info('not written');
    log.debug('not written');
    expect(lines).toEqual([]);
    log.level = 'debug';
    log.debug('now written');
    expect(lines).toEqual([expect.objectContaining({ reqId: 'req-9', msg: 'now written', level: 20 })]);
    expect(logger.level).toBe('warn');
  });
});
