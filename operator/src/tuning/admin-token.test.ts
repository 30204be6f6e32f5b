import { afterEach, describe, expect, it } from 'vitest';
import type { Hal9Cluster } from '../api-types.ts';
import { OperatorError, OperatorErrorCode, requeueFor } from '../errors.ts';
import { createKubeClients } from '../kube/clients.ts';
import { type ApiserverStub, type StubAnswer, startApiserverStub } from '../testing/apiserver-stub.ts';
import { adminTokenTimeoutMs, secretAdminToken } from './admin-token.ts';

// The read's deadline and client, against a loopback stand-in for the apiserver.
// test/admin-token.test.ts reads a real Secret from a real apiserver.

const stubs: ApiserverStub[] = [];
const stub = async (answer: StubAnswer) => {
  const s = await startApiserverStub(() => answer);
  stubs.push(s);
  return s;
};
afterEach(async () => {
  for (const s of stubs.splice(0)) await s.close();
});

const aSecret: StubAnswer = {
  body: {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'hal9-admin', namespace: 'team-a' },
    data: { token: Buffer.from('rotate-me-0123456789\n').toString('base64') },
  },
};

const cluster = {
  apiVersion: 'hal9.ai/v1alpha1',
  kind: 'Hal9Cluster',
  metadata: { name: 'c', namespace: 'team-a' },
  spec: { adminTokenSecretRef: { name: 'hal9-admin' } },
} as Hal9Cluster;

describe('secretAdminToken', () => {
  it('reads the Secret through the operator’s shared API client', async () => {
    const { kc, requests } = await stub(aSecret);
    expect(await secretAdminToken(createKubeClients(kc, adminTokenTimeoutMs).core)(cluster)).toBe(
      'rotate-me-0123456789',
    );
    expect(requests.map((r) => r.url)).toEqual(['/api/v1/namespaces/team-a/secrets/hal9-admin']);
    // The User-Agent the shared client sets: kc.makeApiClient would send client-node's own.
    expect(requests[0]?.headers['user-agent']).toBe('hal9-operator');
    expect(requests[0]?.headers.authorization).toBe('Bearer operator-token');
  });

  it('reads a Secret once for the Neurons that ask for it at once', async () => {
    const { kc, requests } = await stub(aSecret);
    const read = secretAdminToken(createKubeClients(kc, adminTokenTimeoutMs).core);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => read(cluster)));
    expect(new Set(tokens)).toEqual(new Set(['rotate-me-0123456789']));
    expect(requests).toHaveLength(1);
    // Kept: the next ask reads nothing.
    expect(await read(cluster)).toBe('rotate-me-0123456789');
    expect(requests).toHaveLength(1);
  });

  it("names the chart value to grant on a refused read, keeping the refusal's code and status", async () => {
    const { kc } = await stub({
      status: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Forbidden',
        code: 403,
        message: 'secrets "hal9-admin" is forbidden',
      },
    });
    const failed = await secretAdminToken(createKubeClients(kc, adminTokenTimeoutMs).core)(cluster).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(OperatorError);
    expect(failed).toMatchObject({
      code: OperatorErrorCode.Forbidden,
      status: 403,
      message: expect.stringMatching(
        /^HAL9_ERR_FORBIDDEN: Read of Secret team-a\/hal9-admin .*; the operator may read only the Secrets it is granted: add \{namespace: team-a, names: \[hal9-admin\]\} to the chart value rbac.adminTokenSecrets/,
      ),
    });
    expect(requeueFor(failed)).toBe(requeueFor(new OperatorError(OperatorErrorCode.Forbidden, 'x')));
  });

  it('fails a read the apiserver never answers at its deadline, and keeps that failure like a refusal', async () => {
    const { kc, requests } = await stub('hang');
    let now = 0;
    const read = secretAdminToken(createKubeClients(kc, 100).core, { ttlMs: 60_000, now: () => now });
    const failed = await read(cluster).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toMatchObject({
      code: OperatorErrorCode.ApiUnavailable,
      message: expect.stringContaining('Read of Secret team-a/hal9-admin (spec.adminTokenSecretRef) failed'),
    });
    expect(requests).toHaveLength(1);
    // Kept for a tenth of the TTL: the next passes get the same error without another request.
    now = 5_999;
    await expect(read(cluster)).rejects.toBe(failed);
    expect(requests).toHaveLength(1);
    now = 6_000;
    await expect(read(cluster)).rejects.toMatchObject({ code: OperatorErrorCode.ApiUnavailable });
    expect(requests).toHaveLength(2);
  });
});
