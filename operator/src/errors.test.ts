import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { fromApiError, OperatorErrorCode } from './errors.ts';

describe('fromApiError', () => {
  it('takes the HTTP status and the Status message from an ApiException', () => {
    const body = JSON.stringify({ kind: 'Status', message: 'secrets "x" is forbidden', code: 403 });
    const e = fromApiError(new ApiException(403, 'Forbidden', body, {}), 'Read of Secret ns/x');
    expect(e).toMatchObject({ code: OperatorErrorCode.Forbidden, status: 403 });
    expect(e.message).toBe(
      'HAL9_ERR_FORBIDDEN: Read of Secret ns/x failed (HTTP 403): secrets "x" is forbidden',
    );
  });

  it.each([
    [
      'a request that hit its deadline',
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    ],
    ['an aborted request', new DOMException('This operation was aborted', 'AbortError')],
  ])('reads %s as an unavailable apiserver, not as an HTTP status', (_, err) => {
    const e = fromApiError(err, 'Read of Secret ns/x');
    expect(e).toMatchObject({ code: OperatorErrorCode.ApiUnavailable, status: undefined });
    expect(e.message).toBe(`HAL9_ERR_API_UNAVAILABLE: Read of Secret ns/x failed: ${err.message}`);
  });
});
