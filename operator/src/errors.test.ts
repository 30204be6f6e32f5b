import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { fromApiError, isTransient, OperatorError, OperatorErrorCode } from './errors.ts';

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

describe('isTransient', () => {
  it('is true of the apiserver’s moment only, never of what needs someone', () => {
    const of = (status: number) => fromApiError({ code: status, body: '{}' }, 'Apply of Deployment x');
    expect([429, 500, 503, 409, 404].map((s) => isTransient(of(s)))).toEqual([true, true, true, true, true]);
    expect([400, 422, 401, 403].map((s) => isTransient(of(s)))).toEqual([false, false, false, false]);
    expect(isTransient(new OperatorError(OperatorErrorCode.NameTaken, 'taken'))).toBe(false);
    expect(isTransient(new OperatorError(OperatorErrorCode.ReconcileTimeout, 'slow'))).toBe(true);
    expect(isTransient(new TypeError('a bug'))).toBe(false);
  });
});
