import { describe, expect, it } from 'vitest';
import { fromApiError, OperatorErrorCode, requeueFor } from '../errors.ts';
import { type AccessStep, accessFailure, firstToShow, reasonFor } from './access-failure.ts';

const secret: AccessStep = { verb: 'create', kind: 'Secret', namespace: 'team-a', name: 'brain-peer-token' };
const policy: AccessStep = {
  verb: 'apply',
  kind: 'NetworkPolicy',
  namespace: 'team-a',
  name: 'brain-hal9-runtime',
};
const entry: AccessStep = {
  verb: 'delete',
  kind: 'NetworkPolicy',
  namespace: 'team-a',
  name: 'brain-hal9-entry',
};

/** What the apiserver answers, as client-node raises it. */
const apiError = (code: number, message: string, action: string) =>
  fromApiError({ code, body: JSON.stringify({ kind: 'Status', message }) }, action);

describe('accessFailure', () => {
  it.each([
    [
      'a Secret create RBAC refuses',
      secret,
      apiError(
        403,
        'secrets is forbidden: User "system:serviceaccount:x:y" cannot create resource "secrets"',
        'Create of Secret team-a/brain-peer-token',
      ),
      'Forbidden',
      /^HAL9_ERR_FORBIDDEN: Create of Secret team-a\/brain-peer-token failed \(HTTP 403\): secrets is forbidden: .*\. The runtime pods of this cluster stay in ContainerCreating until it exists .*\. Grant the operator create on secrets in this namespace .*or create the Secret yourself .*"token"\.$/,
    ],
    [
      'a NetworkPolicy an admission policy refuses',
      policy,
      apiError(
        422,
        'networkpolicies.networking.k8s.io "brain-hal9-runtime" is forbidden: ValidatingAdmissionPolicy denied',
        'Apply of NetworkPolicy team-a/brain-hal9-runtime',
      ),
      'Rejected',
      /^HAL9_ERR_REJECTED: Apply of NetworkPolicy team-a\/brain-hal9-runtime failed \(HTTP 422\): .*Find what refuses it .*--no-network-policies.*at each resync\.$/,
    ],
    [
      'a NetworkPolicy RBAC refuses',
      policy,
      apiError(403, 'forbidden', 'Apply of NetworkPolicy team-a/brain-hal9-runtime'),
      'Forbidden',
      /Grant the operator create and patch on networkpolicies\.networking\.k8s\.io/,
    ],
    [
      'an entry policy delete RBAC refuses',
      entry,
      apiError(403, 'forbidden', 'Delete of NetworkPolicy team-a/brain-hal9-entry'),
      'Forbidden',
      /admits anyone .* no longer the entry Neuron\. Grant the operator delete on networkpolicies/,
    ],
    [
      'an apiserver that does not answer',
      secret,
      apiError(503, 'unavailable', 'Create of Secret team-a/brain-peer-token'),
      'ApiUnavailable',
      /^HAL9_ERR_API_UNAVAILABLE: .*Retried with backoff\.$/,
    ],
    [
      'a bug',
      secret,
      new TypeError('x is undefined'),
      'Unexpected',
      /^HAL9_ERR_UNEXPECTED: Create of Secret team-a\/brain-peer-token failed: x is undefined\./,
    ],
  ])('%s', (_name, step, err, reason, message) => {
    const f = accessFailure(step, err);
    expect(f.reason).toBe(reason);
    expect(f.message).toMatch(message);
  });

  it('marks what the work queue retries for the apiserver’s moment (the cluster is then Retrying, not Degraded)', () => {
    const at = (code: number) =>
      accessFailure(secret, apiError(code, 'no', 'Create of Secret team-a/brain-peer-token')).transient;
    expect([429, 500, 503, 409].map(at)).toEqual([true, true, true, true]);
    expect([403, 422].map(at)).toEqual([false, false]);
    expect(accessFailure(secret, new TypeError('a bug')).transient).toBe(false);
  });

  it('shows the first failure of a pass, unless it is transient and a later one needs someone', () => {
    const busy = accessFailure(secret, apiError(503, 'busy', 'Create of Secret team-a/brain-peer-token'));
    const denied = accessFailure(policy, apiError(403, 'denied', 'Apply of NetworkPolicy'));
    const conflict = accessFailure(entry, apiError(409, 'conflict', 'Delete of NetworkPolicy'));
    expect(firstToShow(undefined, busy)).toBe(busy);
    expect(firstToShow(busy, denied)).toBe(denied);
    expect(firstToShow(denied, busy)).toBe(denied);
    expect(firstToShow(busy, conflict)).toBe(busy);
  });

  it('carries the transient error of the pass, which the work queue retries soon, whichever failure it shows', () => {
    const e503 = apiError(503, 'busy', 'Create of Secret team-a/brain-peer-token');
    const e422 = apiError(422, 'refused', 'Apply of NetworkPolicy');
    const busy = { ...accessFailure(secret, e503), error: e503 };
    const refused = { ...accessFailure(policy, e422), error: e422 };
    for (const shown of [firstToShow(busy, refused), firstToShow(firstToShow(undefined, refused), busy)]) {
      expect(shown.reason).toBe('Rejected');
      expect(requeueFor(shown.error)).toBe('backoff');
    }
    expect(firstToShow(undefined, refused).error).toBe(e422);
  });

  it('names every code of the catalogue in CamelCase, as a condition reason must be', () => {
    for (const [name, code] of Object.entries(OperatorErrorCode)) {
      expect(reasonFor(code)).toBe(name);
      expect(name).toMatch(/^[A-Z][A-Za-z0-9]*$/);
    }
  });
});
