import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { maxRefusals, type RestartInput, refusedByApiserver, restartMode } from './watch-restart.ts';

const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
const status = (code: number) => new ApiException(code, 'failed', '', {});
/** How client-node's Watch reports a non-200 answer: a plain Error with the status. */
const watchStatus = (code: number) => Object.assign(new Error('failed'), { statusCode: code });

const base: RestartInput = { resourceVersion: '42', refusals: 0, err: reset, silent: false };

describe('restartMode', () => {
  it.each<[string, Partial<RestartInput>, 'resume' | 'relist']>([
    ['a reset connection resumes', {}, 'resume'],
    ['a refused connection (apiserver restarting) resumes', { err: refused }, 'resume'],
    ['a busy apiserver (429) resumes', { err: watchStatus(429), refusals: 0 }, 'resume'],
    ['an apiserver whose storage initializes (503) resumes', { err: status(503) }, 'resume'],
    ['a first refusal (500) resumes', { err: watchStatus(500), refusals: 1 }, 'resume'],
    [
      'refused the whole allowance in a row relists',
      { err: watchStatus(504), refusals: maxRefusals },
      'relist',
    ],
    ['410 Gone relists', { err: watchStatus(410), refusals: 1 }, 'relist'],
    ['410 Gone as an ApiException relists', { err: status(410), refusals: 1 }, 'relist'],
    ['no resourceVersion yet (the list failed) relists', { resourceVersion: '' }, 'relist'],
    ['a silent watch is rebuilt', { err: undefined, silent: true }, 'relist'],
  ])('%s', (_name, input, mode) => {
    expect(restartMode({ ...base, ...input })).toBe(mode);
  });
});

describe('refusedByApiserver', () => {
  it.each<[string, unknown, boolean]>([
    ['a reset connection is not', reset, false],
    ['a refused connection is not', refused, false],
    ['a client timeout is not', new DOMException('timed out', 'TimeoutError'), false],
    ['429 is not (come back later)', watchStatus(429), false],
    ['503 is not (come back later)', status(503), false],
    ['403 is', status(403), true],
    ['500 is', watchStatus(500), true],
    ['504 (too large resource version) is', watchStatus(504), true],
  ])('%s', (_name, err, refused) => {
    expect(refusedByApiserver(err)).toBe(refused);
  });
});
