import { afterEach, describe, expect, it } from 'vitest';
import { OperatorErrorCode } from '../errors.ts';
import { createKubeClients } from '../kube/clients.ts';
import { type ApiserverStub, startApiserverStub } from '../testing/apiserver-stub.ts';
import { createLeaseClient, leaseTimeoutMs } from './lease-client.ts';

// The Lease calls' abort plumbing, against a loopback stand-in for the apiserver; leader election
// against a real one is test/leader-election.test.ts.

const stubs: ApiserverStub[] = [];
// The client the operator gives the elector: its deadline is the Lease's backstop.
const leaseApi = (s: ApiserverStub) => createKubeClients(s.kc, leaseTimeoutMs).coordination;
afterEach(async () => {
  for (const s of stubs.splice(0)) await s.close();
});

const lease = {
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'leader', namespace: 'ns', resourceVersion: '7' },
  spec: { holderIdentity: 'a' },
};

describe('createLeaseClient', () => {
  it('reads the Lease when the caller does not abort', async () => {
    const s = await startApiserverStub(() => ({ body: lease }));
    stubs.push(s);
    const client = createLeaseClient(leaseApi(s), 'ns', 'leader', () => {});
    expect(await client.get(new AbortController().signal)).toMatchObject({ spec: { holderIdentity: 'a' } });
    expect(s.requests.map((r) => r.url)).toEqual([
      '/apis/coordination.k8s.io/v1/namespaces/ns/leases/leader',
    ]);
    // The shared client's own middleware still runs before the per-call one.
    expect(s.requests[0]?.headers['user-agent']).toBe('hal9-operator');
  });

  it('abandons a request the apiserver does not answer when the caller aborts, before its own deadline', async () => {
    const s = await startApiserverStub(() => 'hang');
    stubs.push(s);
    const client = createLeaseClient(leaseApi(s), 'ns', 'leader', () => {});
    for (const call of [
      (signal: AbortSignal) => client.get(signal),
      (signal: AbortSignal) => client.replace(lease, signal),
      (signal: AbortSignal) => client.create(lease, signal),
    ]) {
      const abort = new AbortController();
      const pending = call(abort.signal);
      const received = s.requests.length;
      while (s.requests.length === received) await new Promise((r) => setTimeout(r, 5));
      abort.abort(new DOMException('The renew deadline passed', 'AbortError'));
      // Well before the client's 5 s backstop, which is the test's own timeout.
      await expect(pending).rejects.toMatchObject({ code: OperatorErrorCode.ApiUnavailable });
    }
    expect(s.requests.map((r) => r.method)).toEqual(['GET', 'PUT', 'POST']);
  });
});
