import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCertificates, kubectl, type PodRunner, startPodRunner, waitFor } from '@hal9/test';
import { CoreV1Api, type V1Deployment, type V1EnvVar } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Jaeger, startJaeger } from '../../test/jaeger/index.ts';
import { aCluster, aNeuron, toYaml } from './support/builders.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { waitForNeuronReady } from './support/reads.ts';

// spec.tracing as a platform team uses it: turned on for a cluster, tuned per Neuron, changed
// (the pods roll) and removed (the variables leave the live Deployment).
const space = useOperatorNamespace('operator-tracing');
const { kc, reads: r, apply, patch } = space;

const envOf = (d: V1Deployment | undefined): readonly V1EnvVar[] =>
  d?.spec?.template?.spec?.containers[0]?.env ?? [];
const value = (d: V1Deployment | undefined, name: string) => envOf(d).find((e) => e.name === name)?.value;
const tracedNames = (d: V1Deployment | undefined) =>
  envOf(d)
    .map((e) => e.name)
    .filter((n) => n.startsWith('OTEL_') || n === 'HAL9_POD_NAME');

describe('spec.tracing', () => {
  it("sets the runtime pods' OTEL_ variables, takes a Neuron's override, rolls on a change and leaves with the section", {
    timeout: 120_000,
  }, async () => {
    const endpoint = 'http://otel-collector.observability:4318';
    await apply([
      aCluster('c1', { tracing: { endpoint, samplingRatio: 0.1 } }),
      aNeuron('n1', 'c1'),
      aNeuron('n2', 'c1', { tracing: { samplingRatio: 0.5, resourceAttributes: { team: 'search' } } }),
    ]);
    await waitForNeuronReady(r, 'n1');
    const n1 = await r.deployment('n1');
    expect(tracedNames(n1)).toEqual([
      'HAL9_POD_NAME',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_RESOURCE_ATTRIBUTES',
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_SAMPLER_ARG',
    ]);
    expect(value(n1, 'OTEL_EXPORTER_OTLP_ENDPOINT')).toBe(endpoint);
    expect(value(n1, 'OTEL_TRACES_SAMPLER')).toBe('parentbased_traceidratio');
    expect(value(n1, 'OTEL_TRACES_SAMPLER_ARG')).toBe('0.1');
    expect(value(n1, 'OTEL_RESOURCE_ATTRIBUTES')).toBe(
      `service.name=n1,k8s.namespace.name=${space.name},k8s.deployment.name=n1,service.namespace=c1,hal9.neuron=n1,k8s.pod.name=$(HAL9_POD_NAME)`,
    );
    const n2 = await waitFor('Deployment n2', () => r.deployment('n2'), { timeoutMs: 30_000 });
    expect(value(n2, 'OTEL_TRACES_SAMPLER_ARG')).toBe('0.5');
    expect(value(n2, 'OTEL_RESOURCE_ATTRIBUTES')).toMatch(
      /^team=search,service\.name=n2,k8s\.namespace\.name=/,
    );

    // A new ratio is a new pod template: a rollout.
    const revision = (d: V1Deployment | undefined) => d?.metadata?.generation ?? 0;
    await patch('hal9cluster', 'c1', { spec: { tracing: { samplingRatio: 0.01 } } });
    const changed = await waitFor(
      'Deployment n1 with the new ratio',
      async () => {
        const d = await r.deployment('n1');
        return value(d, 'OTEL_TRACES_SAMPLER_ARG') === '0.01' ? d : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(revision(changed)).toBeGreaterThan(revision(n1));

    // Without the section the pods get no OTEL_ variable, as before tracing existed.
    await patch('hal9cluster', 'c1', { spec: { tracing: null } });
    await waitFor(
      'OTEL_ variables gone from Deployment n1',
      async () => {
        const d = await r.deployment('n1');
        return d && tracedNames(d).length === 0 ? d : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await waitForNeuronReady(r, 'n1');
  });
});

describe('spec.tracing: compression and the export timeout', () => {
  it("sets them in milliseconds, takes a Neuron's per field, and rolls the pods on a change", {
    timeout: 120_000,
  }, async () => {
    const endpoint = 'http://otel-collector.observability:4318';
    await apply([
      aCluster('z1', { tracing: { endpoint, compression: 'gzip', timeout: '5s' } }),
      aNeuron('z1a', 'z1'),
      aNeuron('z1b', 'z1', { tracing: { timeout: '1s500ms' } }),
    ]);
    await waitForNeuronReady(r, 'z1a');
    const a = await r.deployment('z1a');
    expect(value(a, 'OTEL_EXPORTER_OTLP_COMPRESSION')).toBe('gzip');
    expect(value(a, 'OTEL_EXPORTER_OTLP_TIMEOUT')).toBe('5000');
    const b = await waitFor('Deployment z1b', () => r.deployment('z1b'), { timeoutMs: 30_000 });
    expect(value(b, 'OTEL_EXPORTER_OTLP_COMPRESSION')).toBe('gzip');
    expect(value(b, 'OTEL_EXPORTER_OTLP_TIMEOUT')).toBe('1500');

    await patch('hal9cluster', 'z1', { spec: { tracing: { compression: 'none', timeout: null } } });
    const changed = await waitFor(
      'Deployment z1a with the new compression',
      async () => {
        const d = await r.deployment('z1a');
        return value(d, 'OTEL_EXPORTER_OTLP_COMPRESSION') === 'none' ? d : undefined;
      },
      { timeoutMs: 30_000 },
    );
    // Unset again: no variable, the runtime's default.
    expect(value(changed, 'OTEL_EXPORTER_OTLP_TIMEOUT')).toBeUndefined();
    expect(changed?.metadata?.generation ?? 0).toBeGreaterThan(a?.metadata?.generation ?? 0);
  });
});

describe('spec.tracing: a collector behind TLS that wants a token', () => {
  it('mounts the headers and the CA from their Secrets; a CA over http is refused with what to fix', {
    timeout: 120_000,
  }, async () => {
    const tls = {
      endpoint: 'https://tempo.observability:4318',
      headersSecretRef: { name: 'otlp-auth' },
      caSecretRef: { name: 'otlp-ca' },
    };
    await apply([aCluster('tls1', { tracing: tls }), aNeuron('t1', 'tls1')]);
    const d = await waitFor(
      'Deployment t1 with the collector connection',
      async () => {
        const d = await r.deployment('t1');
        return envOf(d).some((e) => e.name === 'HAL9_OTLP_HEADERS_FILE') ? d : undefined;
      },
      { timeoutMs: 30_000 },
    );
    // A file the runtime re-reads, so a rotated token is taken up without restarting the pods.
    expect(value(d, 'HAL9_OTLP_HEADERS_FILE')).toBe('/var/run/hal9/otlp-headers/headers');
    expect(envOf(d).some((e) => e.name === 'OTEL_EXPORTER_OTLP_HEADERS')).toBe(false);
    expect(value(d, 'OTEL_EXPORTER_OTLP_CERTIFICATE')).toBe('/var/run/hal9/otlp-ca/ca.crt');
    const pod = d?.spec?.template?.spec;
    expect(pod?.volumes?.find((v) => v.name === 'otlp-headers')?.secret).toMatchObject({
      secretName: 'otlp-auth',
      items: [{ key: 'headers', path: 'headers' }],
      defaultMode: 0o440,
    });
    expect(pod?.containers[0]?.volumeMounts).toContainEqual({
      name: 'otlp-headers',
      mountPath: '/var/run/hal9/otlp-headers',
      readOnly: true,
    });
    expect(pod?.volumes?.find((v) => v.name === 'otlp-ca')?.secret).toMatchObject({
      secretName: 'otlp-ca',
      items: [{ key: 'ca.crt', path: 'ca.crt' }],
    });
    expect(pod?.containers[0]?.volumeMounts).toContainEqual({
      name: 'otlp-ca',
      mountPath: '/var/run/hal9/otlp-ca',
      readOnly: true,
    });

    const refused = await kubectl(['apply', '-n', space.name, '-f', '-'], {
      stdin: toYaml([aCluster('tls2', { tracing: { ...tls, endpoint: 'http://tempo.observability:4318' } })]),
      allowFailure: true,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      'tracing.caSecretRef is the CA of a collector behind TLS, but tracing.endpoint is not https://: write the endpoint as https://<host>:<port>, or remove caSecretRef',
    );
  });
});

describe('spans of a pod the operator rendered', () => {
  let jaeger: Jaeger;
  let runner: PodRunner;
  beforeAll(async () => {
    jaeger = await startJaeger();
    // The pod's own environment, as the kubelet builds it, runs a real runtime process on its pod IP.
    runner = await startPodRunner({
      kubeConfig: kc,
      namespace: space.name,
      labelSelector: 'hal9.ai/neuron=traced',
      maxProcesses: 1,
      stopGraceMs: 2000,
      env: { OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
  }, 300_000);
  afterAll(async () => {
    await runner?.close();
    await jaeger?.stop();
  });

  it('reach the collector with the pod, namespace, Deployment, cluster and Neuron as resource attributes', {
    timeout: 120_000,
  }, async () => {
    await apply([
      aCluster('c2', {
        tracing: {
          endpoint: jaeger.otlpEndpoint,
          resourceAttributes: { 'deployment.environment.name': 'test' },
          // Taken by the runtime as rendered (a value it refused would stop the process at its start).
          compression: 'gzip',
          timeout: '5s',
        },
      }),
      aNeuron('traced', 'c2'),
    ]);
    const pod = await waitFor(
      'a pod of Neuron traced',
      async () => (await r.pods('hal9.ai/neuron=traced')).find((p) => p.status?.phase === 'Running'),
      { timeoutMs: 60_000 },
    );
    const name = pod.metadata?.name ?? '';
    const proc = await runner.waitForReady(space.name, name, 60_000);
    const res = await fetch(`${proc.url}/v1/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'trace me' }),
    });
    const body = (await res.json()) as { traceId: string };
    const spans = await jaeger.waitForSpans(body.traceId, { timeoutMs: 30_000 });
    expect(spans[0]!.resource).toMatchObject({
      'service.name': 'traced',
      'k8s.pod.name': name,
      'k8s.namespace.name': space.name,
      'k8s.deployment.name': 'traced',
      'service.namespace': 'c2',
      'hal9.neuron': 'traced',
      'hal9.cluster': 'c2',
      'deployment.environment.name': 'test',
    });
  });
});

describe('spans of a pod the operator rendered, to a collector behind TLS that wants a token', () => {
  let runner: PodRunner;
  let collector: Server;
  let dir: string;
  const received: { authorization?: string; spans: number }[] = [];
  beforeAll(async () => {
    // A collector whose certificate a private CA signed (openssl, as the harness makes the apiserver's).
    dir = await mkdtemp(join(tmpdir(), 'hal9-otlp-ca-'));
    const certs = await generateCertificates(dir);
    collector = createServer(
      { key: await readFile(certs.servingKey), cert: await readFile(certs.servingCert) },
      (req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          const spans = (JSON.parse(body).resourceSpans ?? []).length;
          received.push({
            ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
            spans,
          });
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      },
    );
    await new Promise<void>((done) => collector.listen(0, '127.0.0.1', done));
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: space.name,
      body: { metadata: { name: 'otlp-auth' }, stringData: { headers: 'Authorization=Bearer%20e2e-token' } },
    });
    await core.createNamespacedSecret({
      namespace: space.name,
      body: {
        metadata: { name: 'otlp-ca' },
        stringData: { 'ca.crt': await readFile(certs.servingCa, 'utf8') },
      },
    });
    runner = await startPodRunner({
      kubeConfig: kc,
      namespace: space.name,
      labelSelector: 'hal9.ai/neuron=traced-tls',
      maxProcesses: 1,
      stopGraceMs: 2000,
      env: { OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
  }, 300_000);
  afterAll(async () => {
    await runner?.close();
    collector?.closeAllConnections();
    collector?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reach it with the header from the Secret, trusting the CA mounted from the other', {
    timeout: 120_000,
  }, async () => {
    const endpoint = `https://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    await apply([
      aCluster('tls3', {
        tracing: { endpoint, headersSecretRef: { name: 'otlp-auth' }, caSecretRef: { name: 'otlp-ca' } },
      }),
      aNeuron('traced-tls', 'tls3'),
    ]);
    const pod = await waitFor(
      'a pod of Neuron traced-tls',
      async () => (await r.pods('hal9.ai/neuron=traced-tls')).find((p) => p.status?.phase === 'Running'),
      { timeoutMs: 60_000 },
    );
    const proc = await runner.waitForReady(space.name, pod.metadata?.name ?? '', 60_000);
    const res = await fetch(`${proc.url}/v1/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'trace me' }),
    });
    expect(res.status).toBe(200);
    const exported = await waitFor(
      'spans at the TLS collector',
      async () => received.find((x) => x.spans > 0),
      {
        timeoutMs: 30_000,
      },
    );
    expect(exported.authorization).toBe('Bearer e2e-token');
  });
});
