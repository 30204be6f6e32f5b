// The CRD upgrade the chart prints after `helm install`, run on a real kube-apiserver. Helm creates the
// CRDs of crds/ on first install (its field manager, `helm`, then owns every field) and never touches
// them again, so the printed command is the only way a Helm user gets a changed schema. The CRDs are
// the chart's own, moved to a group of their own so that the shared control plane's hal9.ai CRDs stay
// as they are.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  binDirFromInject,
  createTestNamespace,
  kubeConfigFromInject,
  kubeconfigPathFromInject,
  kubectl,
  type TestNamespace,
} from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartDir } from '../support/helm.ts';

let ns: TestNamespace;
let dir: string;
let group: string;
const release = 'crd-upgrade';
const changed = 'Condition Ready (schema of the next chart version).';

function helm(...args: string[]) {
  // The Secret-reference admission policy is cluster-scoped and bound to every namespace: these
  // releases leave it out, so it never stands in the way of the tests running beside them
  // (secret-reference-policy.test.ts tests it, bound to its own namespace).
  const policy = ['install', 'upgrade'].includes(args[0] ?? '')
    ? ['--set', 'admissionPolicy.secretReferences=false']
    : [];
  const run = spawnSync(
    join(binDirFromInject(), 'helm'),
    [...args, ...policy, '--kubeconfig', kubeconfigPathFromInject()],
    {
      encoding: 'utf8',
    },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A copy of the chart whose CRDs are in `group`, at `version`, with `edit` applied to each CRD file. */
function chartCopy(name: string, version: string, edit: (crd: string) => string = (c) => c): string {
  const copy = join(dir, name);
  cpSync(chartDir, copy, { recursive: true });
  const chartYaml = join(copy, 'Chart.yaml');
  writeFileSync(chartYaml, readFileSync(chartYaml, 'utf8').replace(/^version: .*$/m, `version: ${version}`));
  for (const file of readdirSync(join(copy, 'crds'))) {
    const path = join(copy, 'crds', file);
    // Without the short names and the `hal9` category too: the copies must not show up in what other
    // tests on the shared control plane list by them (`kubectl get hal9`).
    const moved = readFileSync(path, 'utf8')
      .replaceAll('hal9.ai', group)
      .replace(/^( +)(shortNames|categories):\n(\1 +- .*\n)+/gm, '');
    writeFileSync(path, edit(moved));
  }
  return copy;
}

beforeAll(async () => {
  ns = await createTestNamespace(kubeConfigFromInject(), 'helm-crds');
  group = `${ns.name}.hal9.test`;
  dir = mkdtempSync(join(tmpdir(), 'hal9-crd-upgrade-'));
});

afterAll(async () => {
  helm('uninstall', release, '--namespace', ns.name);
  // helm.sh/resource-policy: keep leaves the CRDs behind on uninstall.
  await kubectl(['delete', 'crd', `hal9clusters.${group}`, `neurons.${group}`, '--ignore-not-found'], {
    allowFailure: true,
  });
  if (dir) rmSync(dir, { recursive: true, force: true });
  await ns?.delete();
});

describe('CRD upgrade after helm install', () => {
  it('applies the next version’s CRDs with the command the chart prints', async () => {
    const installed = helm(
      'install',
      release,
      chartCopy('v1', '0.1.0'),
      '--namespace',
      ns.name,
      '--set',
      'replicaCount=1',
    );
    expect(installed.status, installed.stderr).toBe(0);
    const crd = `neurons.${group}`;
    const managers = await kubectl([
      'get',
      'crd',
      crd,
      '-o',
      'jsonpath={.metadata.managedFields[*].manager}',
    ]);
    expect(managers.stdout.split(' ')).toContain('helm');

    // The next chart version changes a field Helm set on install, in both CRDs.
    const next = chartCopy('v2', '0.2.0', (c) =>
      c
        .replace('description: Condition Ready.', `description: ${changed}`)
        .replace('description: Whether every neuron of the cluster is ready.', `description: ${changed}`),
    );
    const crds = helm('show', 'crds', next, '--version', '0.2.0');
    expect(crds.status, crds.stderr).toBe(0);
    expect(crds.stdout).toContain(changed);

    // A plain server-side apply is refused: the field belongs to helm.
    const plain = await kubectl(['apply', '--server-side', '-f', '-'], {
      stdin: crds.stdout,
      allowFailure: true,
    });
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain('conflict with "helm"');

    // The command of the NOTES, with the next chart in place of <chart>.
    const notes = installed.stdout.slice(installed.stdout.indexOf('NOTES:'));
    const line = notes.split('\n').find((l) => l.includes('helm show crds'));
    expect(line, notes).toBeDefined();
    const [show, apply] = (line ?? '').trim().split(' | ');
    expect(show).toBe('helm show crds <chart> --version 0.1.0');
    const args = (apply ?? '').split(/\s+/);
    expect(args.slice(0, 1)).toEqual(['kubectl']);
    const applied = await kubectl(args.slice(1), { stdin: crds.stdout, allowFailure: true });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    // helm show crds prints the files back to back: each is its own document, so both are applied
    // (without a separator kubectl read one object, the last file's, and the Hal9Cluster CRD stayed old).
    expect(applied.stdout).toContain(`hal9clusters.${group} serverside-applied`);
    expect(applied.stdout).toContain(`neurons.${group} serverside-applied`);

    for (const name of [`hal9clusters.${group}`, crd]) {
      const column = await kubectl([
        'get',
        'crd',
        name,
        '-o',
        'jsonpath={.spec.versions[0].additionalPrinterColumns[0].description}',
      ]);
      expect(column.stdout, name).toBe(changed);
    }
  });
});

// Each operator reconciles every namespace (or the one of its watchNamespace) and leads through a Lease of
// its own: a second release over the same namespaces would be a second leader. The release the test above installed is the first one.
describe('a second release of the chart', () => {
  it('is refused, naming the release that has the operator; that release still upgrades', () => {
    const chart = chartCopy('again', '0.1.0');
    const second = helm('install', 'second', chart, '--namespace', ns.name, '--set', 'replicaCount=1');
    expect(second.status).not.toBe(0);
    expect(second.stderr).toContain(
      `the Hal9 operator is already installed by release "${release}" in namespace "${ns.name}"`,
    );
    expect(second.stderr).toContain(`helm upgrade ${release} -n ${ns.name}`);

    const upgraded = helm('upgrade', release, chart, '--namespace', ns.name, '--set', 'replicaCount=1');
    expect(upgraded.stderr).toBe('');
    expect(upgraded.status).toBe(0);
  });

  it('is refused beside an operator applied without Helm (Argo CD, kubectl), naming its Deployment', async () => {
    const removed = helm('uninstall', release, '--namespace', ns.name);
    expect(removed.status, removed.stderr).toBe(0);
    const chart = chartCopy('applied', '0.1.0');
    const rendered = helm(
      'template',
      'argo',
      chart,
      '--namespace',
      ns.name,
      '--show-only',
      'templates/deployment.yaml',
    );
    expect(rendered.status, rendered.stderr).toBe(0);
    await kubectl(['apply', '-n', ns.name, '-f', '-'], { stdin: rendered.stdout });

    const installed = helm('install', 'second', chart, '--namespace', ns.name, '--set', 'replicaCount=1');
    expect(installed.status).not.toBe(0);
    expect(installed.stderr).toContain(
      `the Hal9 operator is already installed by Deployment ${ns.name}/argo-hal9-operator`,
    );
    await kubectl(['delete', 'deployment', '-n', ns.name, 'argo-hal9-operator']);
  });

  it('takes the Deployment it would adopt (helm install --take-ownership of what kubectl applied) as its own', async () => {
    const chart = chartCopy('adopt', '0.1.0');
    const rendered = helm('template', 'adopt', chart, '--namespace', ns.name, '--set', 'replicaCount=1');
    expect(rendered.status, rendered.stderr).toBe(0);
    await kubectl(['apply', '--server-side', '-n', ns.name, '-f', '-'], { stdin: rendered.stdout });
    const adopted = helm(
      'install',
      'adopt',
      chart,
      '--namespace',
      ns.name,
      '--set',
      'replicaCount=1',
      '--take-ownership',
    );
    expect(adopted.stderr).toBe('');
    expect(adopted.status).toBe(0);
    // Another release beside it is still refused.
    const second = helm('install', 'second', chart, '--namespace', ns.name, '--set', 'replicaCount=1');
    expect(second.stderr).toContain(
      `the Hal9 operator is already installed by release "adopt" in namespace "${ns.name}"`,
    );
    const removed = helm('uninstall', 'adopt', '--namespace', ns.name);
    expect(removed.status, removed.stderr).toBe(0);
  });

  it('refuses a watchNamespace or admin token namespace that does not exist, before anything is applied', async () => {
    const chart = chartCopy('missing', '0.1.0');
    const before = await kubectl(['get', 'serviceaccount,deployment,service', '-n', ns.name, '-o', 'name']);
    for (const [value, field] of [
      ['watchNamespace=no-such-team', 'watchNamespace'],
      ['rbac.adminTokenSecrets[0].namespace=no-such-team', 'rbac.adminTokenSecrets[0].namespace'],
    ] as const) {
      const extra = field === 'watchNamespace' ? [] : ['--set', 'rbac.adminTokenSecrets[0].names={tok}'];
      const run = helm(
        'install',
        'missing',
        chart,
        '--namespace',
        ns.name,
        '--set',
        'replicaCount=1',
        '--set',
        value,
        ...extra,
      );
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain(`${field}: namespace "no-such-team" does not exist; create it first`);
      expect(helm('status', 'missing', '--namespace', ns.name).status).not.toBe(0);
    }
    const after = await kubectl(['get', 'serviceaccount,deployment,service', '-n', ns.name, '-o', 'name']);
    expect(after.stdout).toBe(before.stdout);
    // The release's own namespace is Helm's to create (--create-namespace, after the templates render).
    const own = `${ns.name}-own`;
    const created = helm(
      ...['install', 'own', chart, '--namespace', own, '--create-namespace'],
      ...['--set', 'replicaCount=1', '--set', `watchNamespace=${own}`],
    );
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    expect(helm('uninstall', 'own', '--namespace', own).status).toBe(0);
    await kubectl(['delete', 'namespace', own, '--wait=false']);
  });

  it('installs beside releases that watch other namespaces; one over the same namespace, or every namespace, is refused', async () => {
    const other = await createTestNamespace(kubeConfigFromInject(), 'helm-watch');
    try {
      const chart = chartCopy('scoped', '0.1.0');
      const install = (name: string, ...values: string[]) =>
        helm(
          'install',
          name,
          chart,
          '--namespace',
          ns.name,
          ...['replicaCount=1', ...values].flatMap((v) => ['--set', v]),
        );
      for (const [name, watched] of [
        ['team-a', ns.name],
        ['team-b', other.name],
      ] as const) {
        const installed = install(name, `watchNamespace=${watched}`);
        expect(installed.status, installed.stderr).toBe(0);
      }
      // Its grants are a Role in the namespace it watches.
      const role = await kubectl(['get', 'role,rolebinding', '-n', other.name, '-o', 'name']);
      expect(
        role.stdout
          .split('\n')
          .filter((l) => l.includes('team-b'))
          .sort(),
      ).toEqual([
        'role.rbac.authorization.k8s.io/team-b-hal9-operator',
        'rolebinding.rbac.authorization.k8s.io/team-b-hal9-operator',
      ]);

      const same = install('again', `watchNamespace=${other.name}`);
      expect(same.status).not.toBe(0);
      expect(same.stderr).toContain(
        `already installed by release "team-b" in namespace "${ns.name}" (Deployment ${ns.name}/team-b-hal9-operator), reconciling namespace "${other.name}"`,
      );
      expect(same.stderr).toContain('or give each release its own watchNamespace');
      const everywhere = install('everywhere');
      expect(everywhere.status).not.toBe(0);
      expect(everywhere.stderr).toMatch(/already installed by release "team-[ab]"/);
      for (const name of ['team-a', 'team-b']) {
        const removed = helm('uninstall', name, '--namespace', ns.name);
        expect(removed.status, removed.stderr).toBe(0);
      }
    } finally {
      await other.delete();
    }
  });
});
