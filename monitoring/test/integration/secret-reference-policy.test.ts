// The chart's secret-reference ValidatingAdmissionPolicy on a real kube-apiserver (1.37) with its RBAC: a user
// who may write Neurons and Hal9Clusters but not read the namespace's Secrets may not name one in a Secret
// reference (the operator would mount it into the runtime pods, and the runtime send it to claude.baseURL or
// tracing.endpoint); a user who may get it may; an update that keeps a reference someone else set passes.
// The policy is cluster-scoped: its binding selects this file's namespace only, so the Neurons other tests
// write on the shared control plane are not checked.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  binDirFromInject,
  createTestNamespace,
  type KubectlResult,
  kubeConfigFromInject,
  kubeconfigPathFromInject,
  kubectl,
  type TestNamespace,
} from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chartDir } from '../support/helm.ts';

const kind = 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
/** May write Neurons and Hal9Clusters, and read no Secret. */
const writer = 'secret-refs-writer';
/** The same, and get on the Secrets below by name. */
const reader = 'secret-refs-reader';
const secret = 'team-key';
const other = 'other-key';
const pullSecrets = Array.from({ length: 16 }, (_, i) => `registry-${i}`);

let ns: TestNamespace;
let manifest = '';

function helm(...args: string[]) {
  const run = spawnSync(
    join(binDirFromInject(), 'helm'),
    [...args, '--kubeconfig', kubeconfigPathFromInject()],
    { cwd: chartDir, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The policy objects as the chart renders them for a release (of the test's namespace), bound to it alone. */
function renderPolicy(release: string, ...extra: string[]) {
  return helm(
    ...['template', release, '.', '--namespace', ns.name],
    ...['--show-only', 'templates/secret-reference-policy.yaml'],
    '--set-json',
    `admissionPolicy.namespaceSelector={"matchLabels":{"kubernetes.io/metadata.name":"${ns.name}"}}`,
    ...extra,
  );
}

const neuron = (name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}) => ({
  apiVersion: 'hal9.ai/v1alpha1',
  kind: 'Neuron',
  metadata: { name, labels },
  spec: { cluster: 'hal9', layer: 'L2', ...spec },
});

const cluster = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'hal9.ai/v1alpha1',
  kind: 'Hal9Cluster',
  metadata: { name },
  spec,
});

/**
 * Server-side apply as a user (impersonated by the admin), optionally as a server-side dry run; taking over
 * the fields another manager set, as a GitOps tool's apply does.
 */
function applyAs(user: string | undefined, obj: object, dryRun = false): Promise<KubectlResult> {
  return kubectl(
    [
      ...['apply', '--server-side', '--force-conflicts', '--field-manager', user ?? 'admin'],
      ...['-n', ns.name, '-f', '-'],
      ...(user ? [`--as=${user}`] : []),
      ...(dryRun ? ['--dry-run=server'] : []),
    ],
    { stdin: JSON.stringify(obj), allowFailure: true },
  );
}

function refusal(field: string, name: string, user = writer): string {
  return `${field} names Secret "${name}", which "${user}" may not get in namespace "${ns.name}"`;
}

function expectRefused(result: KubectlResult, field: string, name: string, user = writer) {
  expect(result.code, result.stdout).not.toBe(0);
  expect(result.stderr).toContain('ValidatingAdmissionPolicy');
  expect(result.stderr).toContain(refusal(field, name, user));
  expect(result.stderr).toContain('ask for get on this one');
  expect(result.stderr).toContain('or ask someone who may get it to make this change');
}

function expectAccepted(result: KubectlResult) {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

beforeAll(async () => {
  ns = await createTestNamespace(kubeConfigFromInject(), 'secret-refs');
  const rendered = renderPolicy(ns.name, '--api-versions', kind);
  expect(rendered.stderr).toBe('');
  expect(rendered.status).toBe(0);
  manifest = rendered.stdout;
  await kubectl(['apply', '--server-side', '-f', '-'], { stdin: manifest });

  for (const name of [secret, other]) {
    await kubectl(['create', 'secret', 'generic', name, '-n', ns.name, '--from-literal=api-key=sk-test']);
  }
  await kubectl([
    ...['create', 'role', 'hal9-writer', '-n', ns.name, '--verb=*'],
    '--resource=neurons.hal9.ai,hal9clusters.hal9.ai',
  ]);
  await kubectl([
    ...['create', 'role', 'secret-reader', '-n', ns.name, '--verb=get', '--resource=secrets'],
    ...[secret, ...pullSecrets].map((n) => `--resource-name=${n}`),
  ]);
  await kubectl([
    ...['create', 'rolebinding', 'hal9-writer', '-n', ns.name, '--role=hal9-writer'],
    ...[`--user=${writer}`, `--user=${reader}`],
  ]);
  await kubectl([
    ...['create', 'rolebinding', 'secret-reader', '-n', ns.name, '--role=secret-reader'],
    `--user=${reader}`,
  ]);
  // The apiserver enforces a new policy and binding once its informers have them.
  await vi.waitFor(
    async () => {
      const bad = neuron('probe', { claude: { apiKeySecretRef: { name: secret } } });
      expectRefused(await applyAs(writer, bad, true), 'spec.claude.apiKeySecretRef', secret);
    },
    { timeout: 60_000, interval: 500 },
  );
});

afterAll(async () => {
  if (manifest) {
    await kubectl(['delete', '--ignore-not-found', '-f', '-'], { stdin: manifest, allowFailure: true });
  }
  await ns?.delete();
});

describe('the secret-reference admission policy', () => {
  it('is rendered where the real apiserver serves the kind (its discovery, as helm install reads it)', () => {
    // --validate: capabilities from the cluster, as an install's (another release: the objects above exist).
    const run = renderPolicy(
      `${ns.name}-discovered`,
      '--validate',
      '--set',
      'preflight.oneOperatorCheck=false',
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('kind: ValidatingAdmissionPolicy\n');
    expect(run.stdout).toContain('kind: ValidatingAdmissionPolicyBinding\n');
  });

  it("refuses a writer's Neuron naming a Secret they may not get, in each reference field, naming field and Secret", async () => {
    const refs: [string, Record<string, unknown>][] = [
      [
        'spec.claude.apiKeySecretRef',
        { claude: { mode: 'api', baseURL: 'https://collector.invalid', apiKeySecretRef: { name: secret } } },
      ],
      [
        'spec.tracing.headersSecretRef',
        { tracing: { endpoint: 'https://collector.invalid', headersSecretRef: { name: secret } } },
      ],
      [
        'spec.tracing.caSecretRef',
        { tracing: { endpoint: 'https://collector.invalid', caSecretRef: { name: secret } } },
      ],
      [
        'spec.tracing.clientCertSecretRef',
        { tracing: { endpoint: 'https://collector.invalid', clientCertSecretRef: { name: secret } } },
      ],
    ];
    for (const [field, spec] of refs) {
      expectRefused(await applyAs(writer, neuron('refused', spec)), field, secret);
    }
    const gone = await kubectl(['get', 'neuron', 'refused', '-n', ns.name, '--ignore-not-found']);
    expect(gone.stdout).toBe('');
  });

  it("refuses a writer's Hal9Cluster naming one in adminTokenSecretRef or imagePullSecrets", async () => {
    expectRefused(
      await applyAs(writer, cluster('refused', { adminTokenSecretRef: { name: secret } }), true),
      'spec.adminTokenSecretRef',
      secret,
    );
    expectRefused(
      await applyAs(writer, cluster('refused', { imagePullSecrets: [{ name: pullSecrets[3] }] }), true),
      'spec.imagePullSecrets',
      pullSecrets[3]!,
    );
  });

  it("accepts the writer's Neuron without Secret references", async () => {
    expectAccepted(await applyAs(writer, neuron('plain', { claude: { mode: 'mock' } })));
  });

  it('accepts a user who may get the Secret (by name only), in every reference field', async () => {
    const spec = {
      claude: { mode: 'api', apiKeySecretRef: { name: secret } },
      tracing: {
        endpoint: 'https://collector.invalid',
        headersSecretRef: { name: secret },
        caSecretRef: { name: secret },
        clientCertSecretRef: { name: secret },
      },
    };
    expectAccepted(await applyAs(reader, neuron('read', spec)));
    // The other Secret is not theirs to name.
    expectRefused(
      await applyAs(reader, neuron('read', { ...spec, claude: { apiKeySecretRef: { name: other } } }), true),
      'spec.claude.apiKeySecretRef',
      other,
      reader,
    );
  });

  it('checks every reference of a Hal9Cluster with 16 new pull secrets within the cost budget', async () => {
    // 1 + 5 + 16 authorization checks, each one name (the reader may not get every Secret).
    const spec = {
      adminTokenSecretRef: { name: secret },
      imagePullSecrets: pullSecrets.map((name) => ({ name })),
      claude: { mode: 'api', apiKeySecretRef: { name: secret } },
      tracing: {
        endpoint: 'https://collector.invalid',
        headersSecretRef: { name: secret },
        caSecretRef: { name: secret },
        clientCertSecretRef: { name: secret },
      },
    };
    expectAccepted(await applyAs(reader, cluster('many', spec), true));
    // The last entry alone not readable: refused, naming it.
    const last = [...pullSecrets.slice(0, 15), other].map((name) => ({ name }));
    expectRefused(
      await applyAs(reader, cluster('many', { ...spec, imagePullSecrets: last }), true),
      'spec.imagePullSecrets',
      other,
      reader,
    );
  });

  it('accepts an update that keeps a reference someone else set; refuses one that changes it or where it goes', async () => {
    const spec = {
      claude: { mode: 'api', baseURL: 'https://api.anthropic.com', apiKeySecretRef: { name: secret } },
    };
    expectAccepted(await applyAs(undefined, neuron('kept', spec)));

    // The same spec, with a label: server-side apply by the writer, as Argo CD re-applies it.
    expectAccepted(await applyAs(writer, neuron('kept', spec, { team: 'a' })));
    const labels = await kubectl([
      'get',
      'neuron',
      'kept',
      '-n',
      ns.name,
      '-o',
      'jsonpath={.metadata.labels}',
    ]);
    expect(JSON.parse(labels.stdout)).toMatchObject({ team: 'a' });
    // A patch elsewhere in the spec (the operator's ownerReference patch is one too).
    expectAccepted(
      await kubectl(
        [
          ...['patch', 'neuron', 'kept', '-n', ns.name, `--as=${writer}`, '--type=merge'],
          ...['-p', JSON.stringify({ spec: { replicas: 2 } })],
        ],
        { allowFailure: true },
      ),
    );

    // Another Secret, another key of the same Secret, or another URL to send it to.
    const changes: [Record<string, unknown>, string][] = [
      [{ ...spec.claude, apiKeySecretRef: { name: other } }, other],
      [{ ...spec.claude, apiKeySecretRef: { name: secret, key: 'password' } }, secret],
      [{ ...spec.claude, baseURL: 'https://collector.invalid' }, secret],
    ];
    for (const [claude, name] of changes) {
      expectRefused(
        await applyAs(writer, neuron('kept', { claude }, { team: 'a' })),
        'spec.claude.apiKeySecretRef',
        name,
      );
    }
    const stored = await kubectl(['get', 'neuron', 'kept', '-n', ns.name, '-o', 'jsonpath={.spec.claude}']);
    expect(JSON.parse(stored.stdout)).toMatchObject(spec.claude);
    // Dropping the reference needs no right on it.
    const drop = { spec: { claude: { mode: 'mock', baseURL: null, apiKeySecretRef: null } } };
    expectAccepted(
      await kubectl(
        [
          ...['patch', 'neuron', 'kept', '-n', ns.name, `--as=${writer}`, '--type=merge', '--dry-run=server'],
          ...['-p', JSON.stringify(drop)],
        ],
        { allowFailure: true },
      ),
    );
  });
});
