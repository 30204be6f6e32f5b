import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { fromApiError, OperatorError, OperatorErrorCode } from '../errors.ts';
import { childrenFailed } from './apply-children.ts';

const shed = (retryAfter: string) =>
  fromApiError(new ApiException(429, 'too many requests', '{}', { 'retry-after': retryAfter }), 'apply');

describe('childrenFailed', () => {
  it('keeps the longest Retry-After of children an apiserver refused together', () => {
    const e = childrenFailed([{ error: shed('2') }, { error: shed('5') }, { error: shed('1') }]);
    expect(e).toBeInstanceOf(OperatorError);
    expect(e).toMatchObject({ code: OperatorErrorCode.ApiUnavailable, status: 429, retryAfterMs: 5000 });
    expect((e as Error).message).toContain('3 children not applied');
  });

  it('asks for no wait when no child carried one', () => {
    const conflict = fromApiError(new ApiException(409, 'conflict', '{}', {}), 'apply');
    const e = childrenFailed([{ error: conflict }, { error: conflict }]) as OperatorError;
    expect(e.retryAfterMs).toBeUndefined();
  });
});
