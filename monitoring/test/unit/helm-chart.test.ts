import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig, usage } from '../../../operator/src/config.ts';
import { findHelm, helm, kubeVersion, template } from '../support/helm.ts';
import { monitoringDir, readRules, repoRoot } from '../support/repo.ts';

type Obj = {
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [k: string]: unknown;
};

// What Helm's discovery (and Argo CD) pass for the Prometheus Operator's API: the group version and each kind.
const api = (...kinds: string[]) =>
  kinds.flatMap((k) => ['--api-versions', k ? `monitoring.coreos.com/v1/${k}` : 'monitoring.coreos.com/v1']);
const monitoringApi = api('', 'ServiceMonitor', 'PrometheusRule');
// The kind, as Helm's discovery and Argo CD pass it (helm template's defaults do not include it).
const admissionApi = ['--api-versions', 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy'];

function render(...extra: string[]): Obj[] {
  const run = template(...extra);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const docs = parseAllDocuments(run.stdout);
  // A key twice in one mapping (e.g. a label) is an error to kubectl and the API server.
  expect(docs.flatMap((d) => d.errors.map((e) => e.message))).toEqual([]);
  return docs.map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
}

// `helm template` with a values file: --set cannot write a list of objects or keep a null.
function withValues<T>(values: unknown, run: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'hal9-values-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, JSON.stringify(values));
    return run(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const chartValues = () => parse(readFileSync(join(repoRoot, 'charts/hal9-operator/values.yaml'), 'utf8'));

const kinds = (objs: Obj[]) => objs.map((o) => o.kind).sort();
const one = (objs: Obj[], kind: string) => {
  const found = objs.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Obj & Record<string, any>;
};

describe('charts/hal9-operator', () => {
  it('passes helm lint --strict', () => {
    const run = helm('lint', '--strict', '.', '--kube-version', kubeVersion);
    expect(run.stdout).toContain('0 chart(s) failed');
    expect(run.status).toBe(0);
  });

  it('renders the operator without the monitoring API, leaving out ServiceMonitor and PrometheusRule', () => {
    expect(kinds(render())).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'ConfigMap',
        'Deployment',
        'PodDisruptionBudget',
        'Role',
        'Role',
        'RoleBinding',
        'RoleBinding',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
  });

  it('adds ServiceMonitor and PrometheusRule when monitoring.coreos.com/v1 is available', () => {
    const objs = render(...monitoringApi);
    expect(kinds(objs)).toContain('ServiceMonitor');
    expect(kinds(objs)).toContain('PrometheusRule');
    const sm = one(objs, 'ServiceMonitor');
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics', honorLabels: true });
    expect(sm.spec.selector.matchLabels).toEqual(one(objs, 'Service').spec.selector);
  });

  it('puts exactly the groups of monitoring/prometheus/hal9-rules.yaml into the PrometheusRule', () => {
    const rule = one(render(...monitoringApi), 'PrometheusRule');
    expect(rule.spec.groups).toEqual(readRules().groups);
  });

  it('renders ServiceMonitor and PrometheusRule each only when its own kind is served', () => {
    // A cluster can serve monitoring.coreos.com/v1 with only some of its kinds (e.g. only the
    // ServiceMonitor CRD installed): an object of a missing kind fails the install ("no matches for kind").
    const cases: [string[], string[]][] = [
      [api('', 'ServiceMonitor'), ['ServiceMonitor']],
      [api('', 'PrometheusRule'), ['PrometheusRule']],
      [api('ServiceMonitor', 'PrometheusRule'), ['PrometheusRule', 'ServiceMonitor']],
      [monitoringApi, ['PrometheusRule', 'ServiceMonitor']],
      [api(''), []],
    ];
    for (const [args, expected] of cases) {
      const monitoring = kinds(render(...args)).filter(
        (k) => k === 'ServiceMonitor' || k === 'PrometheusRule',
      );
      expect(monitoring, args.join(' ')).toEqual(expected);
    }
  });

  it('renders the secret-reference admission policy and its binding by default where the API serves the kind', () => {
    const policyKinds = (...extra: string[]) =>
      kinds(render(...extra)).filter((k) => k.startsWith('ValidatingAdmissionPolicy'));
    expect(policyKinds(...admissionApi)).toEqual([
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    // Not served (helm template without the kind, or the group version alone), or turned off.
    expect(policyKinds()).toEqual([]);
    expect(policyKinds('--api-versions', 'admissionregistration.k8s.io/v1')).toEqual([]);
    expect(policyKinds(...admissionApi, '--set', 'admissionPolicy.secretReferences=false')).toEqual([]);

    const objs = render(...admissionApi);
    const policy = one(objs, 'ValidatingAdmissionPolicy');
    const binding = one(objs, 'ValidatingAdmissionPolicyBinding');
    // Cluster-scoped: the release's full name and namespace, so two releases never share them.
    expect(policy.metadata).toMatchObject({ name: 'hal9-hal9-operator-secret-references.hal9-system' });
    expect(policy.metadata.namespace).toBeUndefined();
    expect(binding.metadata.name).toBe(policy.metadata.name);
    expect(binding.spec).toEqual({ policyName: policy.metadata.name, validationActions: ['Deny'] });
    expect(policy.spec.failurePolicy).toBe('Fail');
    // The main resources only (neurons/status, neurons/scale are not matched), create and update.
    expect(policy.spec.matchConstraints.resourceRules).toEqual([
      {
        apiGroups: ['hal9.ai'],
        apiVersions: ['*'],
        operations: ['CREATE', 'UPDATE'],
        resources: ['neurons', 'hal9clusters'],
      },
    ]);
    const vars = new Map<string, string>(
      policy.spec.variables.map((v: { name: string; expression: string }) => [v.name, v.expression]),
    );
    for (const [name, path] of [
      ['apiKeySecretRef', 'object.spec.?claude.?apiKeySecretRef'],
      ['headersSecretRef', 'object.spec.?tracing.?headersSecretRef'],
      ['caSecretRef', 'object.spec.?tracing.?caSecretRef'],
      ['clientCertSecretRef', 'object.spec.?tracing.?clientCertSecretRef'],
      ['adminTokenSecretRef', 'object.spec.?adminTokenSecretRef'],
    ] as const) {
      expect(vars.get(name), name).toContain(`${path}.?name.orValue('')`);
    }
    // A new destination counts as a new reference.
    expect(vars.get('apiKeySecretRef')).toContain(
      'object.spec.?claude.?baseURL == variables.old.?claude.?baseURL',
    );
    expect(vars.get('headersSecretRef')).toContain(
      'object.spec.?tracing.?endpoint == variables.old.?tracing.?endpoint',
    );
    expect(vars.get('newPullSecrets')).toContain('object.spec.?imagePullSecrets');
    // The apiserver stops an expression above 1000000 (an authorization check costs 350000) and a binding's
    // evaluation above 10000000: one check per expression, 1 + 5 + 16 in all.
    const checks = (e: string) => e.match(/\.check\('get'\)/g)?.length ?? 0;
    const expressions: string[] = [
      ...vars.values(),
      ...policy.spec.validations.map((v: any) => v.expression),
    ];
    for (const e of expressions) expect(checks(e), e).toBeLessThanOrEqual(1);
    expect(expressions.reduce((n, e) => n + checks(e), 0)).toBe(22);
    expect(policy.spec.validations).toHaveLength(5 + 16 + 1);
    for (const v of policy.spec.validations) {
      expect(v.reason).toBe('Forbidden');
      expect(v.messageExpression).toBeTruthy();
    }
  });

  it('binds the secret-reference policy in every namespace, in watchNamespace, or in the selected ones', () => {
    const selector = (...extra: string[]) =>
      one(render(...admissionApi, ...extra), 'ValidatingAdmissionPolicyBinding').spec.matchResources
        ?.namespaceSelector;
    expect(selector()).toBeUndefined();
    const team = { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['team-a'] };
    expect(selector('--set', 'watchNamespace=team-a')).toEqual({ matchExpressions: [team] });
    const own = {
      matchLabels: { 'hal9.ai/tenant': 'true' },
      matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }],
    };
    const set = ['--set-json', `admissionPolicy.namespaceSelector=${JSON.stringify(own)}`];
    expect(selector(...set)).toEqual(own);
    expect(selector(...set, '--set', 'watchNamespace=team-a')).toEqual({
      matchLabels: own.matchLabels,
      matchExpressions: [...own.matchExpressions, team],
    });
    // Releases of one name in two namespaces (each watching its own) get policies of their own.
    const nameIn = (ns: string) =>
      parseAllDocuments(
        helm('template', 'hal9', '.', '--namespace', ns, '--kube-version', kubeVersion, ...admissionApi)
          .stdout,
      )
        .map((d) => d.toJS() as Obj | null)
        .find((o) => o?.kind === 'ValidatingAdmissionPolicy')?.metadata.name;
    expect(nameIn('team-a')).not.toBe(nameIn('team-b'));
    // A selector the apiserver would refuse is refused before anything is applied.
    for (const [bad, path] of [
      [
        { matchExpressions: [{ key: 'env', operator: 'In' }] },
        '/admissionPolicy/namespaceSelector/matchExpressions/0',
      ],
      [
        { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }] },
        '/admissionPolicy/namespaceSelector/matchExpressions/0/values',
      ],
      [
        { matchExpressions: [{ key: 'env', operator: 'Equals', values: ['x'] }] },
        '/admissionPolicy/namespaceSelector/matchExpressions/0/operator',
      ],
      [{ matchLabels: { 'bad key': 'x' } }, '/admissionPolicy/namespaceSelector/matchLabels'],
      [{ names: ['team-a'] }, '/admissionPolicy/namespaceSelector'],
    ] as const) {
      const run = template('--set-json', `admissionPolicy.namespaceSelector=${JSON.stringify(bad)}`);
      expect(run.status, JSON.stringify(bad)).not.toBe(0);
      expect(run.stderr, JSON.stringify(bad)).toContain(`at '${path}'`);
    }
  });

  it("keeps the README's copy of the secret-reference policy (for installs without the chart) equal to the template", () => {
    const readme = readFileSync(join(repoRoot, 'charts/hal9-operator/README.md'), 'utf8');
    const start = readme.indexOf('<code>hal9-secret-references.yaml</code>');
    expect(start).toBeGreaterThan(0);
    const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(start))?.[1] ?? '';
    const copy = parseAllDocuments(block).map((d) => d.toJS() as Obj & Record<string, any>);
    const rendered = render(...admissionApi);
    const policy = one(rendered, 'ValidatingAdmissionPolicy');
    const binding = one(rendered, 'ValidatingAdmissionPolicyBinding');
    expect(copy.map((o) => o.kind)).toEqual([
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
    ]);
    const [copyPolicy, copyBinding] = copy as [Obj & Record<string, any>, Obj & Record<string, any>];
    expect(copyPolicy.spec).toEqual(policy.spec);
    expect(copyBinding.spec).toEqual({ ...binding.spec, policyName: copyPolicy.metadata.name });
  });

  it("leaves the operator's alerts out of the PrometheusRule when the operator is not scraped or scaled to zero", () => {
    // Hal9OperatorDown (absent(...)) would fire for good without the ServiceMonitor or the operator.
    const runtimeGroups = readRules().groups.filter((g) => g.name !== 'hal9-operator.alerts');
    expect(runtimeGroups.length).toBe(readRules().groups.length - 1);
    for (const args of [
      [...monitoringApi, '--set', 'serviceMonitor.enabled=false'],
      api('', 'PrometheusRule'),
      [...monitoringApi, '--set', 'replicaCount=0'],
    ]) {
      expect(one(render(...args), 'PrometheusRule').spec.groups, args.join(' ')).toEqual(runtimeGroups);
    }
  });

  it('ships each dashboard as a ConfigMap for the Grafana sidecar', () => {
    const maps = render().filter((o) => o.kind === 'ConfigMap') as (Obj & { data: Record<string, string> })[];
    const byKey = new Map(maps.flatMap((m) => Object.entries(m.data)));
    for (const file of ['hal9-performance.json', 'hal9-operator.json']) {
      const committed = readFileSync(join(monitoringDir, 'grafana/dashboards', file), 'utf8');
      expect(JSON.parse(byKey.get(file) ?? 'null'), file).toEqual(JSON.parse(committed));
    }
    for (const m of maps) expect(m.metadata.labels?.grafana_dashboard).toBe('1');
  });

  it('grants least privilege: explicit resources and verbs, no wildcards', () => {
    const objs = render();
    const rules = objs
      .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
      .flatMap(
        (o) => (o as Obj & { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] }).rules,
      );
    for (const r of rules) {
      for (const v of [...r.apiGroups, ...r.resources, ...r.verbs]) expect(v).not.toContain('*');
    }
    const grants = rules.flatMap((r) =>
      r.apiGroups.flatMap((g) =>
        r.resources.map((res) => `${g || 'core'}/${res}: ${[...r.verbs].sort().join(',')}`),
      ),
    );
    // Server-side apply: patch (and create for a new object); nothing is replaced, so no update.
    const apply = 'create,delete,get,list,patch,watch';
    expect(grants.sort()).toEqual(
      [
        'hal9.ai/hal9clusters: get,list,watch',
        'hal9.ai/neurons: delete,get,list,patch,watch',
        'hal9.ai/hal9clusters/status: patch',
        'hal9.ai/neurons/status: patch',
        'hal9.ai/neurons/scale: patch',
        `core/configmaps: ${apply}`,
        `core/services: ${apply}`,
        `apps/deployments: ${apply}`,
        `autoscaling/horizontalpodautoscalers: ${apply}`,
        `policy/poddisruptionbudgets: ${apply}`,
        'core/events: create',
        'core/pods: list,watch',
        // Secrets are only created (the per-cluster peer and admin tokens, the operator's key), never
        // read cluster-wide: the key is read by its name alone (below).
        'core/secrets: create',
        'core/secrets: get',
        // get: a NetworkPolicy of the name is read before its first apply (one someone else made is left alone).
        `networking.k8s.io/networkpolicies: ${apply}`,
        'hal9.ai/hal9clusters/finalizers: update',
        'hal9.ai/neurons/finalizers: update',
        `monitoring.coreos.com/servicemonitors: ${apply}`,
        'coordination.k8s.io/leases: create',
        'coordination.k8s.io/leases: get,update',
      ].sort(),
    );
    const roles = objs.filter((o) => o.kind === 'Role') as (Obj & {
      rules: { resources: string[]; resourceNames?: string[] }[];
    })[];
    for (const r of roles) expect(r.metadata).toMatchObject({ namespace: 'hal9-system' });
    // The one Secret read: the operator's own key, by name.
    const secretReads = roles.flatMap((r) => r.rules.filter((x) => x.resources.includes('secrets')));
    expect(secretReads).toEqual([expect.objectContaining({ resourceNames: ['hal9-operator-admin-key'] })]);
    // The Lease read and renewed: the operator's own, by name (another controller's lock is not its).
    const leaseReads = roles.flatMap((r) => r.rules.filter((x) => x.resources.includes('leases')));
    expect(leaseReads).toEqual([
      expect.not.objectContaining({ resourceNames: expect.anything() }),
      expect.objectContaining({ resourceNames: ['hal9-operator-leader'] }),
    ]);
    const scoped = render('--set', 'watchNamespace=team-a').filter((o) => o.kind === 'Role') as typeof roles;
    expect(scoped.flatMap((r) => r.rules.flatMap((x) => x.resourceNames ?? []))).toContain(
      'hal9-operator-leader-team-a',
    );
  });

  it('runs two replicas with leader election under the restricted pod security standard', () => {
    const d = one(render(), 'Deployment');
    expect(d.spec.replicas).toBe(2);
    const pod = d.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const c = pod.containers[0];
    expect(c.image).toBe('hal9/operator:0.1.0');
    expect(c.args.slice(0, 7)).toEqual([
      '--leader-elect',
      '--bind-address',
      '::',
      '--metrics-port',
      '8080',
      '--health-port',
      '8081',
    ]);
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.volumes.map((v: { name: string }) => v.name)).toEqual(['tmp']);
    expect(pod.serviceAccountName).toBe(one(render(), 'ServiceAccount').metadata.name);
  });

  it('keeps the restricted security contexts by default, also when an earlier release lacked the values', () => {
    // The settings before podSecurityContext and securityContext were values: an upgrade changes nothing.
    const pod = {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    };
    const container = {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    };
    expect(chartValues()).toMatchObject({ podSecurityContext: pod, securityContext: container });
    // helm upgrade --reuse-values from a release before them: both missing (nil), read as the defaults.
    for (const args of [[], ['--set', 'podSecurityContext=null', '--set', 'securityContext=null']]) {
      const spec = one(render(...args), 'Deployment').spec.template.spec;
      expect(spec.securityContext, args.join(' ')).toEqual(pod);
      expect(spec.containers[0].securityContext, args.join(' ')).toEqual(container);
    }
  });

  it("leaves out the UID, GID and fsGroup set to null, as OpenShift's restricted-v2 SCC needs", () => {
    // restricted-v2 refuses a UID outside the namespace's range and assigns one when none is set.
    const spec = withValues(
      {
        podSecurityContext: { runAsUser: null, runAsGroup: null, fsGroup: null, fsGroupChangePolicy: null },
        securityContext: { runAsUser: null },
      },
      (file) => one(render('--values', file), 'Deployment').spec.template.spec,
    );
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // A field is set on its own, the others kept.
    const own = one(render('--set', 'podSecurityContext.runAsUser=1000'), 'Deployment').spec.template.spec;
    expect(own.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 65532, runAsNonRoot: true });
  });

  it('refuses a security context field the apiserver would refuse, naming it', () => {
    for (const [args, message] of [
      [
        ['--set', 'podSecurityContext.runAsUser=-1'],
        "at '/podSecurityContext/runAsUser': minimum: got -1, want 0",
      ],
      [['--set-string', 'securityContext.runAsGroup=nobody'], "at '/securityContext/runAsGroup': got string"],
      [['--set', 'podSecurityContext.runAsUSer=1000'], "additional properties 'runAsUSer' not allowed"],
      [['--set', 'securityContext.seccompProfile.type=Default'], "at '/securityContext/seccompProfile/type'"],
    ] as const) {
      const bad = template(...args);
      expect(bad.status, args.join(' ')).not.toBe(0);
      expect(bad.stderr, args.join(' ')).toContain(message);
    }
  });

  it("adds extra env, volumes, mounts and flags after the chart's own, as the private-CA recipe in values.yaml does", () => {
    // The recipe is the commented block of values.yaml from `#   extraVolumes:` on.
    const lines = readFileSync(join(repoRoot, 'charts/hal9-operator/values.yaml'), 'utf8').split('\n');
    const start = lines.indexOf('#   extraVolumes:');
    expect(start).toBeGreaterThan(0);
    const end = lines.findIndex((l, i) => i > start && !l.startsWith('#   '));
    const recipe = parse(
      lines
        .slice(start, end)
        .map((l) => l.slice(4))
        .join('\n'),
    );
    const c = withValues(
      { ...recipe, extraArgs: ['--workers=4', '--resync-seconds', '300', '--workers', '8'] },
      (file) => one(render('--values', file), 'Deployment').spec.template.spec,
    );
    const container = c.containers[0];
    expect(container.env.map((e: { name: string }) => e.name)).toEqual([
      'POD_NAME',
      'POD_NAMESPACE',
      'NODE_EXTRA_CA_CERTS',
    ]);
    const caFile = container.env[2].value as string;
    const mount = container.volumeMounts[1] as { name: string; mountPath: string; readOnly: boolean };
    expect(caFile.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(mount.readOnly).toBe(true);
    expect(c.volumes).toEqual([
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
      { name: mount.name, configMap: { name: 'prometheus-ca' } },
    ]);
    const args: string[] = container.args;
    expect(args.slice(-5)).toEqual(['--workers=4', '--resync-seconds', '300', '--workers', '8']);
    // The operator takes the command line as it is, and of a flag given twice the last (values.yaml says so).
    const parsed = parseConfig(args, { POD_NAME: 'p', POD_NAMESPACE: 'hal9-system' });
    expect(parsed).toMatchObject({ config: { workers: 8, resyncSeconds: 300, logLevel: 'info' } });
    // Without them, nothing is added.
    const plain = one(render(), 'Deployment').spec.template.spec;
    expect(plain.containers[0].env.map((e: { name: string }) => e.name)).toEqual([
      'POD_NAME',
      'POD_NAMESPACE',
    ]);
    expect(plain.containers[0].volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(plain.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
    expect(plain.containers[0].args.at(-1)).toBe('kubernetes.io/metadata.name=monitoring');
  });

  it('refuses in extraArgs every flag the chart sets or its RBAC depends on, and passes the others', () => {
    const flag = (arg: string) => /^--(?:no-)?([a-z][-a-z0-9]*)/.exec(arg)?.[1];
    // Every flag the chart renders, with each value that adds one.
    const rendered = new Set(
      [
        [],
        [
          '--set',
          'watchNamespace=team-a',
          '--set',
          'neuronClusterOwner=false',
          '--set',
          'networkPolicy.enabled=false',
        ],
        [
          '--set-string',
          'tuning.prometheusURL=http://p:9090',
          '--set-string',
          'tuning.podCidrs=10.0.0.0/8',
          '--set',
          'privileged.allowedNamespaces[0]=team-a',
        ],
      ].flatMap((args) =>
        (one(render(...args), 'Deployment').spec.template.spec.containers[0].args as string[]).flatMap(
          (a) => flag(a) ?? [],
        ),
      ),
    );
    // The operator's own flags (its --help): each is the chart's, or passed through.
    const operatorFlags = new Set(
      [...usage.matchAll(/^ {2}(?:-h, )?--(?:no-)?([a-z][-a-z0-9]*)/gm)].map((m) => m[1] ?? ''),
    );
    const passed = ['workers', 'resync-seconds', 'first-status-wait-ms', 'tuning-window', 'kubeconfig'];
    const refused = [...operatorFlags].filter((f) => !passed.includes(f));
    for (const f of rendered) expect(refused, f).toContain(f);
    expect(refused).toEqual(
      expect.arrayContaining(['leader-election-namespace', 'admin-key-secret', 'identity', 'help']),
    );
    // The boolean ones are also refused negated (node:util parseArgs reads --no-<flag> as false).
    const negatable = ['leader-elect', 'network-policies', 'neuron-cluster-owner'];
    for (const f of refused) {
      for (const arg of negatable.includes(f) ? [`--${f}=x`, `--no-${f}`] : [`--${f}=x`]) {
        const bad = template('--set-string', `extraArgs[0]=${arg}`);
        expect(bad.status, arg).not.toBe(0);
        expect(bad.stderr, arg).toContain(`extraArgs: "${arg}" is refused: `);
      }
    }
    for (const f of passed) {
      const arg = `--${f}=${f === 'kubeconfig' ? '/etc/kube/config' : '60'}`;
      const args: string[] = one(render('--set-string', `extraArgs[0]=${arg}`), 'Deployment').spec.template
        .spec.containers[0].args;
      expect(args.at(-1), f).toBe(arg);
      expect(parseConfig(args, {}), f).not.toHaveProperty('errors');
    }
    // A flag the operator does not have (a typo) would stop it at start too: refused, naming the five.
    for (const arg of ['--bogus-flag', '--worker=8', '--no-workers']) {
      const bad = template('--set-string', `extraArgs[0]=${arg}`);
      expect(bad.status, arg).not.toBe(0);
      expect(bad.stderr, arg).toContain(
        `extraArgs: "${arg}" is no flag of the operator's (it would exit at start): extraArgs takes --workers, --resync-seconds, --first-status-wait-ms, --tuning-window and --kubeconfig`,
      );
      expect(parseConfig([arg], {}), arg).toHaveProperty('errors');
    }
    // A flag and its value in one item, or a short flag, would stop the operator at start.
    for (const arg of ['--workers 8', '-h']) {
      const bad = template('--set-string', `extraArgs[0]=${arg}`);
      expect(bad.status, arg).not.toBe(0);
      expect(bad.stderr, arg).toContain("at '/extraArgs/0'");
    }
  });

  it("refuses extra env, volumes and mounts that repeat the chart's own or each other, or are not restricted", () => {
    const cm = (name: string) => ({ name, configMap: { name } });
    const cases: [Record<string, unknown>, string][] = [
      [
        { extraEnv: [{ name: 'POD_NAME', value: 'x' }] },
        'extraEnv: "POD_NAME" is listed twice, or is one the chart sets',
      ],
      [
        {
          extraEnv: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        },
        'extraEnv: "A" is listed twice',
      ],
      [{ extraVolumes: [cm('tmp')] }, 'extraVolumes: "tmp" is listed twice, or is the chart\'s own volume'],
      [{ extraVolumes: [cm('a'), cm('a')] }, 'extraVolumes: "a" is listed twice'],
      [
        { extraVolumes: [cm('a')], extraVolumeMounts: [{ name: 'a', mountPath: '/tmp/' }] },
        'extraVolumeMounts: "/tmp/" is mounted twice, or is the chart\'s own /tmp',
      ],
      [
        {
          extraVolumes: [cm('a'), cm('b')],
          extraVolumeMounts: [
            { name: 'a', mountPath: '/etc/a' },
            { name: 'b', mountPath: '/etc/a' },
          ],
        },
        'extraVolumeMounts: "/etc/a" is mounted twice',
      ],
      [{ extraVolumeMounts: [{ name: 'a', mountPath: '/etc/a' }] }, 'extraVolumeMounts: "a" names no volume'],
      // Pod Security Standard restricted allows no hostPath.
      [
        { extraVolumes: [{ name: 'host', hostPath: { path: '/' } }] },
        "additional properties 'hostPath' not allowed",
      ],
      [{ extraEnv: [{ name: 'A', value: 1 }] }, "at '/extraEnv/0/value'"],
      [{ extraArgs: Array.from({ length: 33 }, (_, i) => `--workers=${i + 1}`) }, "at '/extraArgs'"],
    ];
    for (const [values, message] of cases) {
      const bad = withValues(values, (file) => template('--values', file));
      expect(bad.status, message).not.toBe(0);
      expect(bad.stderr, message).toContain(message);
    }
  });

  it('passes a Prometheus bearer token file with its URL, and refuses one without the URL it is sent to', () => {
    const token = '/var/run/secrets/kubernetes.io/serviceaccount/token';
    const args: string[] = one(
      render(
        '--set',
        'tuning.prometheusURL=https://thanos-querier.openshift-monitoring.svc:9091',
        '--set',
        `tuning.prometheusBearerTokenFile=${token}`,
      ),
      'Deployment',
    ).spec.template.spec.containers[0].args;
    expect(args.slice(args.indexOf('--prometheus-bearer-token-file'))).toEqual(
      expect.arrayContaining(['--prometheus-bearer-token-file', token]),
    );
    expect(parseConfig(args, {})).toMatchObject({ config: { prometheusBearerTokenFile: token } });
    const alone = template('--set', `tuning.prometheusBearerTokenFile=${token}`);
    expect(alone.status).not.toBe(0);
    expect(alone.stderr).toContain('tuning.prometheusBearerTokenFile needs tuning.prometheusURL');
  });

  it('fails the install on a Prometheus port the operator would refuse at start', () => {
    const url = template('--set', 'tuning.prometheusURL=http://prometheus:99999');
    expect(url.status).not.toBe(0);
    expect(url.stderr).toContain('tuning.prometheusURL: "http://prometheus:99999" has a port above 65535');
    const origins = template('--set', 'tuning.prometheusOrigins=http://a:9090\\, https://[::1]:65536');
    expect(origins.status).not.toBe(0);
    expect(origins.stderr).toContain(
      'tuning.prometheusOrigins: "https://[::1]:65536" has a port above 65535',
    );
    for (const ok of ['http://prometheus:65535/', 'https://[::1]:9090', 'http://prometheus']) {
      const args: string[] = one(
        render('--set', `tuning.prometheusURL=${ok}`, '--set', `tuning.prometheusOrigins=${ok}`),
        'Deployment',
      ).spec.template.spec.containers[0].args;
      expect(parseConfig(args, {})).toMatchObject({ config: { prometheusURL: ok } });
    }
  });

  it('renders no Prometheus URL or origin the operator refuses at start: each is refused here or read there', () => {
    const refused = [
      'http://10.96.0.300:9090',
      'http://999.1.1.1',
      'http://prometheus.monitoring.svc:9O90',
      'http://[fd00::1:9090',
      'http://[1:2:3]:9090',
      'http://prom|x:9090',
      'http://a%20b:9090',
      'http://prometheus.1',
    ];
    for (const url of refused) {
      const t = template('--set', `tuning.prometheusURL=${url}`);
      expect(t.status, url).not.toBe(0);
      expect(t.stderr).toContain(
        `tuning.prometheusURL: "${url}" has a host or port the operator cannot read`,
      );
      const o = template('--set', `tuning.prometheusOrigins=http://ok:9090\\, ${url}`);
      expect(o.status, url).not.toBe(0);
      // (The schema's pattern refuses some of them first.)
      expect(o.stderr).toContain('prometheusOrigins');
      // The operator refuses each too: the chart only says so before any pod crash-loops.
      const parsed = parseConfig(['--prometheus-url', url], {});
      expect('errors' in parsed ? parsed.errors.join('\n') : '', url).toContain('--prometheus-url');
    }
    for (const ok of [
      'http://prometheus-k8s.monitoring.svc.cluster.local.:9090',
      'http://10.96.0.30:9090',
      'https://[fd00::1]:9090',
      'http://my_prom',
      'https://thanos-querier.openshift-monitoring.svc:9091/api/prom',
      'http://1password-prom.example.com',
      // A namespace may start with a digit: only a last label that is a number makes an IPv4 address.
      'http://prometheus.2024-monitoring:9090',
      'http://prom.0xfoo',
    ]) {
      const args: string[] = one(render('--set', `tuning.prometheusURL=${ok}`), 'Deployment').spec.template
        .spec.containers[0].args;
      expect(parseConfig(args, {}), ok).toMatchObject({ config: { prometheusURL: ok } });
    }
  });

  it('scales the operator to zero with replicaCount 0: no PodDisruptionBudget and no anti-affinity', () => {
    const objs = render('--set', 'replicaCount=0');
    expect(kinds(objs)).not.toContain('PodDisruptionBudget');
    const d = one(objs, 'Deployment');
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.template.spec.affinity).toBeUndefined();
  });

  it('takes resource quantities as strings or numbers, as Kubernetes does, and refuses malformed ones', () => {
    const resources = {
      requests: { cpu: 0.5, memory: 134217728, 'ephemeral-storage': '1Gi' },
      limits: { cpu: '1', memory: 268435456, 'ephemeral-storage': 2147483648 },
    };
    const rendered = withValues(
      { resources },
      (file) => one(render('--values', file), 'Deployment').spec.template.spec.containers[0].resources,
    );
    expect(rendered).toEqual(resources);
    expect(
      one(render('--set', 'resources.limits.memory=268435456'), 'Deployment').spec.template.spec.containers[0]
        .resources.limits,
    ).toEqual({ memory: 268435456 });
    // The apiserver refuses these (256MB is no quantity: 256M or 256Mi).
    for (const value of [
      'resources.limits.memory=256MB',
      'resources.requests.memory=-1',
      'resources.requests.cpu=1 CPU',
    ]) {
      const bad = template('--set', value);
      expect(bad.status, value).not.toBe(0);
      expect(bad.stderr, value).toContain(`at '/resources/${value.split('.')[1]}/`);
    }
  });

  it('grants the admin tokens with one Role and RoleBinding per namespace, however many entries name it', () => {
    const entry = (i: number, namespace: string, names: string[]) => [
      '--set',
      `rbac.adminTokenSecrets[${i}].namespace=${namespace}`,
      ...names.flatMap((n, j) => ['--set', `rbac.adminTokenSecrets[${i}].names[${j}]=${n}`]),
    ];
    const objs = render(
      ...entry(0, 'team-a', ['token-2']),
      ...entry(1, 'team-b', ['token-b']),
      ...entry(2, 'team-a', ['token-1', 'token-2']),
    );
    const adminTokens = (kind: string) =>
      objs.filter((o) => o.kind === kind && o.metadata.name.endsWith('-admin-tokens')) as (Obj &
        Record<string, any>)[];
    for (const kind of ['Role', 'RoleBinding']) {
      const ids = adminTokens(kind).map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
      // Two objects of one kind with the same namespace and name fail the install.
      expect(ids, kind).toEqual([...new Set(ids)]);
      expect(ids.map((id) => id.split('/')[0]).sort(), kind).toEqual(['team-a', 'team-b']);
    }
    const names = (namespace: string) =>
      adminTokens('Role').find((r) => r.metadata.namespace === namespace)?.rules[0].resourceNames;
    expect(names('team-a')).toEqual(['token-1', 'token-2']);
    expect(names('team-b')).toEqual(['token-b']);
    for (const b of adminTokens('RoleBinding')) {
      const role = adminTokens('Role').find((r) => r.metadata.namespace === b.metadata.namespace);
      expect(b.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'Role',
        name: role?.metadata.name,
      });
    }
  });

  it('with watchNamespace, grants the same rules as a Role there and nothing cluster-wide', () => {
    type Role = Obj & { rules: unknown[]; roleRef?: { kind: string; name: string } };
    const everywhere = render();
    const scoped = render('--set', 'watchNamespace=team-a');
    expect(scoped.filter((o) => o.kind.startsWith('Cluster')).map((o) => o.kind)).toEqual([]);
    const clusterRole = one(everywhere, 'ClusterRole') as Role;
    const role = scoped.find(
      (o) => o.kind === 'Role' && o.metadata.name === clusterRole.metadata.name,
    ) as Role;
    expect(role.metadata.namespace).toBe('team-a');
    expect(role.rules).toEqual(clusterRole.rules);
    const binding = scoped.find(
      (o) => o.kind === 'RoleBinding' && o.metadata.name === clusterRole.metadata.name,
    ) as Role & { subjects: unknown[] };
    expect(binding.metadata.namespace).toBe('team-a');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: role.metadata.name,
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: one(scoped, 'ServiceAccount').metadata.name, namespace: 'hal9-system' },
    ]);
    // The operator watches that namespace alone, through a Lease of its own, and says so for other releases.
    const d = one(scoped, 'Deployment');
    const args: string[] = d.spec.template.spec.containers[0].args;
    expect(args.slice(0, 5)).toEqual([
      '--leader-elect',
      '--namespace',
      'team-a',
      '--lease-name',
      'hal9-operator-leader-team-a',
    ]);
    expect(d.metadata.annotations).toMatchObject({ 'hal9.ai/watch-namespace': 'team-a' });
    const all = one(everywhere, 'Deployment');
    expect(all.spec.template.spec.containers[0].args).not.toContain('--namespace');
    expect(all.metadata.annotations).toMatchObject({ 'hal9.ai/watch-namespace': '' });
    const bad = template('--set', 'watchNamespace=Team_A');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("at '/watchNamespace': 'Team_A' does not match pattern");
  });

  it('ships CRDs that neither helm uninstall nor Argo CD prune or delete', () => {
    const crds = render('--include-crds').filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds.map((c) => c.metadata.name).sort()).toEqual(['hal9clusters.hal9.ai', 'neurons.hal9.ai']);
    for (const c of crds) {
      expect(c.metadata.annotations, c.metadata.name).toMatchObject({
        'helm.sh/resource-policy': 'keep',
        'argocd.argoproj.io/sync-options': 'ServerSideApply=true,Prune=false,Delete=false',
      });
    }
  });

  it("lists for Artifact Hub the images it deploys and examples of its CRDs that are the minimal sample's", () => {
    const chart = parse(readFileSync(join(repoRoot, 'charts/hal9-operator/Chart.yaml'), 'utf8'));
    const values = parse(readFileSync(join(repoRoot, 'charts/hal9-operator/values.yaml'), 'utf8'));
    expect(chart.maintainers?.length).toBeGreaterThan(0); // chart-testing's lint requires them
    const images = parse(chart.annotations['artifacthub.io/images']) as { name: string; image: string }[];
    const crd = parse(readFileSync(join(repoRoot, 'crds/hal9.ai_hal9clusters.yaml'), 'utf8'));
    const runtimeDefault =
      crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.image.default;
    expect(images).toEqual([
      { name: 'operator', image: `${values.image.repository}:${chart.appVersion}` },
      { name: 'runtime', image: runtimeDefault },
    ]);
    const examples = parse(chart.annotations['artifacthub.io/crdsExamples']) as Obj[];
    const sample = parseAllDocuments(readFileSync(join(repoRoot, 'samples/minimal/hal9.yaml'), 'utf8')).map(
      (d) => d.toJS() as Obj,
    );
    for (const e of examples) expect(sample).toContainEqual(e);
  });

  it('requires Kubernetes 1.32 (safe tcp_rmem/tcp_wmem sysctls, CEL quantity())', () => {
    const old = helm('template', 'hal9', '.', '--kube-version', '1.31.0');
    expect(old.status).not.toBe(0);
    expect(old.stderr).toContain('chart requires kubeVersion: >=1.32.0-0');
    expect(helm('template', 'hal9', '.', '--kube-version', '1.32.0').status).toBe(0);
  });

  it("leaves dashboards and rules to hal9-platform with the Argo CD Application's values", () => {
    // argocd/applications/hal9-platform.yaml ships the same dashboards (same uid) and rules.
    const app = parse(readFileSync(join(repoRoot, 'argocd/applications/hal9-operator.yaml'), 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'hal9-values-'));
    let objs: Obj[];
    try {
      writeFileSync(join(dir, 'values.yaml'), JSON.stringify(app.spec.source.helm.valuesObject));
      objs = render(...monitoringApi, '--values', join(dir, 'values.yaml'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(kinds(objs)).not.toContain('PrometheusRule');
    expect(objs.filter((o) => o.metadata.labels?.grafana_dashboard !== undefined)).toEqual([]);
    // The operator's own scrape target stays.
    expect(kinds(objs)).toContain('ServiceMonitor');
    // Neurons are not owned by their cluster under Argo CD, which never prunes an owned object.
    const args = (
      objs.find((o) => o.kind === 'Deployment') as unknown as {
        spec: { template: { spec: { containers: { args: string[] }[] } } };
      }
    ).spec.template.spec.containers[0]!.args;
    expect(args).toContain('--no-neuron-cluster-owner');
  });

  it('makes Neurons owned by their cluster by default', () => {
    const d = one(render(), 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    expect(d.spec.template.spec.containers[0]!.args).not.toContain('--no-neuron-cluster-owner');
  });

  it('requires serviceAccount.name with serviceAccount.create=false, never binding the namespace default', () => {
    const unnamed = template('--set', 'serviceAccount.create=false');
    expect(unnamed.status).not.toBe(0);
    expect(unnamed.stderr).toMatch(/serviceAccount/);
    expect(unnamed.stderr).toMatch(/name/);
    const objs = render('--set', 'serviceAccount.create=false', '--set', 'serviceAccount.name=hal9-ops');
    expect(kinds(objs)).not.toContain('ServiceAccount');
    expect(one(objs, 'Deployment').spec.template.spec.serviceAccountName).toBe('hal9-ops');
    const subjects = objs.flatMap((o) => (o as Obj & { subjects?: { name: string }[] }).subjects ?? []);
    expect(subjects.length).toBeGreaterThan(0);
    for (const s of subjects) expect(s.name).toBe('hal9-ops');
  });

  it("refuses user labels that would repeat or override the chart's own, and adds the others once", () => {
    // A repeated key is refused by kubectl and the API server, or the last one wins: e.g. a podLabels
    // app.kubernetes.io/instance the Deployment's selector no longer matches.
    const dashboards = 'dashboards.label or dashboards.additionalLabels';
    for (const [set, value, key] of [
      ['podLabels.app\\.kubernetes\\.io/instance=x', 'podLabels', 'app.kubernetes.io/instance'],
      ['podLabels.app\\.kubernetes\\.io/name=x', 'podLabels', 'app.kubernetes.io/name'],
      [
        'serviceMonitor.additionalLabels.app\\.kubernetes\\.io/instance=x',
        'serviceMonitor.additionalLabels',
        'app.kubernetes.io/instance',
      ],
      [
        'prometheusRule.additionalLabels.helm\\.sh/chart=x',
        'prometheusRule.additionalLabels',
        'helm.sh/chart',
      ],
      [
        'dashboards.additionalLabels.app\\.kubernetes\\.io/part-of=x',
        dashboards,
        'app.kubernetes.io/part-of',
      ],
      ['dashboards.label=app.kubernetes.io/name', dashboards, 'app.kubernetes.io/name'],
    ] as const) {
      const run = template(...monitoringApi, '--set', set);
      expect(run.status, set).not.toBe(0);
      expect(run.stderr, set).toContain(`${value}: "${key}" is a label the chart sets itself`);
    }
    const selector = { 'app.kubernetes.io/name': 'hal9-operator', 'app.kubernetes.io/instance': 'hal9' };
    const objs = render(
      ...monitoringApi,
      '--set',
      'podLabels.team=ai',
      '--set',
      'serviceMonitor.additionalLabels.release=kps',
      '--set',
      'prometheusRule.additionalLabels.release=kps',
      '--set',
      'dashboards.additionalLabels.team=ai',
    );
    const d = one(objs, 'Deployment');
    expect(d.spec.selector.matchLabels).toEqual(selector);
    expect(d.spec.template.metadata.labels).toMatchObject({ ...selector, team: 'ai' });
    expect(one(objs, 'ServiceMonitor').metadata.labels).toMatchObject({ ...selector, release: 'kps' });
    expect(one(objs, 'PrometheusRule').metadata.labels).toMatchObject({ ...selector, release: 'kps' });
    for (const m of objs.filter((o) => o.kind === 'ConfigMap')) {
      expect(m.metadata.labels).toMatchObject({ ...selector, team: 'ai', grafana_dashboard: '1' });
    }
  });

  it('installs as a dependency of another chart (Helm passes it the parent’s global values)', () => {
    const parent = mkdtempSync(join(tmpdir(), 'hal9-umbrella-'));
    try {
      writeFileSync(
        join(parent, 'Chart.yaml'),
        'apiVersion: v2\nname: platform\nversion: 0.1.0\ndependencies:\n  - name: hal9-operator\n    version: ">0.0.0-0"\n    repository: file://' +
          join(repoRoot, 'charts/hal9-operator') +
          '\n',
      );
      writeFileSync(join(parent, 'values.yaml'), 'global:\n  imageRegistry: registry.example\n');
      const dep = spawnSync(findHelm(), ['dependency', 'update', parent], { encoding: 'utf8' });
      expect(dep.stderr).toBe('');
      const run = spawnSync(
        findHelm(),
        ['template', 'p', parent, '--namespace', 'hal9-system', '--kube-version', kubeVersion],
        { encoding: 'utf8' },
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('kind: Deployment');
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('drops the PodDisruptionBudget for a single replica, and never lets one that is not Ready block a drain', () => {
    expect(kinds(render('--set', 'replicaCount=1'))).not.toContain('PodDisruptionBudget');
    expect(one(render(), 'PodDisruptionBudget').spec).toMatchObject({
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
  });

  it('reads values an earlier release did not have (helm upgrade --reuse-values: nil) as their defaults', () => {
    // --set key=null removes the key, as --reuse-values leaves a key the earlier values lacked.
    const objs = render('--set', 'watchNamespace=null', '--set', 'neuronClusterOwner=null');
    expect(kinds(objs)).toEqual(expect.arrayContaining(['ClusterRole', 'ClusterRoleBinding']));
    const args: string[] = one(objs, 'Deployment').spec.template.spec.containers[0].args;
    expect(args).not.toContain('--namespace');
    expect(args).not.toContain('--no-neuron-cluster-owner');
    expect(one(objs, 'Deployment').metadata.annotations).toMatchObject({ 'hal9.ai/watch-namespace': '' });
  });

  it('renders byte-identical output twice (no random values or timestamps)', () => {
    const a = template(...monitoringApi, '--include-crds');
    const b = template(...monitoringApi, '--include-crds');
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toContain('kind: CustomResourceDefinition');
  });

  it('keeps every object name valid and distinct under the longest release names and fullnameOverrides', () => {
    // Helm accepts release names up to 53 characters; the schema accepts a fullnameOverride up to 63.
    const cases: [string, string[]][] = [
      ['r'.repeat(53), []],
      ['hal9', ['--set', `fullnameOverride=${'f'.repeat(50)}`]],
      ['hal9', ['--set', `fullnameOverride=${'f'.repeat(63)}`]],
    ];
    const dns1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
    for (const [release, extra] of cases) {
      const label = `${release.length}-character release ${extra.join(' ')}`;
      const run = helm(
        'template',
        release,
        '.',
        '--namespace',
        'hal9-system',
        '--kube-version',
        kubeVersion,
        ...monitoringApi,
        ...extra,
      );
      expect(run.stderr, label).toBe('');
      const objs = parseAllDocuments(run.stdout)
        .map((d) => d.toJS() as Obj | null)
        .filter((o): o is Obj => o !== null);
      // The apiserver refuses a Service name that is not a DNS-1035 label (at most 63 characters).
      for (const svc of objs.filter((o) => o.kind === 'Service')) {
        expect(svc.metadata.name, label).toMatch(dns1035);
      }
      // Two objects with one kind, namespace and name fail the install ("already exists").
      const ids = objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      expect(ids, label).toEqual([...new Set(ids)]);
      const dashboards = objs.filter((o) => o.metadata.labels?.grafana_dashboard === '1');
      expect(dashboards.length, label).toBe(2);
      for (const d of dashboards) {
        expect(d.metadata.name.length, label).toBeLessThanOrEqual(63);
        const key = Object.keys((d as Obj & { data: Record<string, string> }).data)[0] ?? '';
        expect(d.metadata.name, label).toMatch(new RegExp(`-dashboard-${key.replace(/\.json$/, '')}$`));
      }
    }
    // The default names are unchanged, so an upgrade renames nothing.
    const names = render().map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toContain('Service/hal9-hal9-operator-metrics');
    expect(names).toContain('ConfigMap/hal9-hal9-operator-dashboard-hal9-performance');
    expect(names).toContain('ConfigMap/hal9-hal9-operator-dashboard-hal9-operator');
  });

  it('renders a ServiceMonitor Prometheus accepts for any scrape interval, and refuses a timeout above it', () => {
    // The Prometheus Operator turns an endpoint into a scrape config (interval -> scrape_interval,
    // scrapeTimeout -> scrape_timeout) and drops the ServiceMonitor when Prometheus would refuse it.
    const dir = mkdtempSync(join(tmpdir(), 'hal9-scrape-'));
    try {
      for (const interval of ['5s', '30s', '2m', '1m30s']) {
        const sm = one(
          render(...monitoringApi, '--set', `serviceMonitor.interval=${interval}`),
          'ServiceMonitor',
        );
        const ep = sm.spec.endpoints[0] as { interval: string; scrapeTimeout?: string };
        expect(ep.interval).toBe(interval);
        const config = {
          global: { scrape_interval: '30s', scrape_timeout: '10s' },
          scrape_configs: [
            {
              job_name: 'hal9-operator',
              scrape_interval: ep.interval,
              ...(ep.scrapeTimeout ? { scrape_timeout: ep.scrapeTimeout } : {}),
              static_configs: [{ targets: ['127.0.0.1:8080'] }],
            },
          ],
        };
        const file = join(dir, `prometheus-${interval}.yml`);
        writeFileSync(file, JSON.stringify(config));
        const check = spawnSync('promtool', ['check', 'config', '--syntax-only', file], { encoding: 'utf8' });
        expect(`${check.stdout}${check.stderr}`, interval).toContain('SUCCESS');
        expect(check.status, interval).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const ok = one(
      render(
        ...monitoringApi,
        '--set',
        'serviceMonitor.interval=1m',
        '--set',
        'serviceMonitor.scrapeTimeout=59s',
      ),
      'ServiceMonitor',
    );
    expect(ok.spec.endpoints[0]).toMatchObject({ interval: '1m', scrapeTimeout: '59s' });
    const over = template(
      ...monitoringApi,
      '--set',
      'serviceMonitor.interval=500ms',
      '--set',
      'serviceMonitor.scrapeTimeout=1s',
    );
    expect(over.status).not.toBe(0);
    expect(over.stderr).toContain(
      'serviceMonitor.scrapeTimeout (1s) must not exceed serviceMonitor.interval (500ms)',
    );
    // Durations of several units, as Prometheus writes them, are compared whole.
    const compound = (timeout: string) =>
      template(
        ...monitoringApi,
        '--set',
        'serviceMonitor.interval=1m30s',
        '--set',
        `serviceMonitor.scrapeTimeout=${timeout}`,
      );
    expect(compound('1m29s500ms').status).toBe(0);
    const longer = compound('1m31s');
    expect(longer.status).not.toBe(0);
    expect(longer.stderr).toContain(
      'serviceMonitor.scrapeTimeout (1m31s) must not exceed serviceMonitor.interval (1m30s)',
    );
  });

  it('rejects unknown and invalid values through values.schema.json', () => {
    const typo = template('--set', 'iamge.tag=x');
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toMatch(/additional properties 'iamge' not allowed|iamge/);
    for (const count of ['replicaCount=-1', 'replicaCount=11']) {
      const bad = template('--set', count);
      expect(bad.status, count).not.toBe(0);
      expect(bad.stderr, count).toMatch(/replicaCount/);
    }
    // A digest that is not sha256 and 64 hex digits would render an image reference no runtime pulls.
    for (const digest of ['sha256:xyz', `sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`]) {
      const bad = template('--set', `image.digest=${digest}`);
      expect(bad.status, digest).not.toBe(0);
      expect(bad.stderr, digest).toContain("at '/image/digest'");
    }
    // Values that would render objects the apiserver or Prometheus refuses (or broken YAML).
    for (const [value, path] of [
      ['serviceMonitor.interval=0s', '/serviceMonitor/interval'],
      ['dashboards.folderAnnotation=a: b', '/dashboards/folderAnnotation'],
      ['dashboards.label=bad label', '/dashboards/label'],
      ['dashboards.labelValue=v v', '/dashboards/labelValue'],
      [`dashboards.folderAnnotation=${'a'.repeat(254)}/x`, '/dashboards/folderAnnotation'],
      ['dashboards.label=a..b/x', '/dashboards/label'],
      // Object names are lowercase RFC 1123: the apiserver would refuse the ServiceAccount and the rest.
      ['nameOverride=Hal9', '/nameOverride'],
      ['fullnameOverride=my_op', '/fullnameOverride'],
      ['fullnameOverride=-op', '/fullnameOverride'],
    ] as const) {
      const bad = template('--set', value);
      expect(bad.status, value).not.toBe(0);
      expect(bad.stderr, value).toContain(`at '${path}'`);
    }
  });

  it("replaces the default Prometheus namespace selector with the user's, never merges the two", () => {
    const selectorOf = (...extra: string[]) => {
      const args: string[] = one(render(...extra), 'Deployment').spec.template.spec.containers[0].args;
      return args[args.indexOf('--prometheus-namespace-selector') + 1];
    };
    expect(selectorOf()).toBe('kubernetes.io/metadata.name=monitoring');
    expect(selectorOf('--set', 'networkPolicy.prometheusNamespaceSelector.purpose=observability')).toBe(
      'purpose=observability',
    );
  });

  it('refuses pod CIDRs and selector keys the operator would refuse at start', () => {
    for (const cidrs of [
      '10.0.0.0/33',
      '999.1.1.1/8',
      '10.244.0.0',
      'fd00::/129',
      '10.0.0.0/8,nonsense',
      // Colons and hex digits that are no IPv6 address (Node's isIP refuses them, and so the operator).
      '1:2:3/64',
      ':::/64',
      '1::2::3/64',
      '1:2:3:4:5:6:7:8:9/64',
      ':1.2.3.4/120',
    ]) {
      const bad = template('--set-string', `tuning.podCidrs=${cidrs.replaceAll(',', '\\,')}`);
      expect(bad.status, cidrs).not.toBe(0);
      expect(bad.stderr, cidrs).toMatch(/podCidrs/);
    }
    for (const cidrs of [
      '10.244.0.0/16',
      '10.0.0.0/8, 172.16.0.0/12',
      'fd00::/8',
      '::/0,127.0.0.0/8',
      '2001:db8:0:0:1:0:0:1/128',
      'fd00:10:244::/56',
      '::ffff:10.0.0.0/104',
    ]) {
      expect(template('--set-string', `tuning.podCidrs=${cidrs.replaceAll(',', '\\,')}`).status, cidrs).toBe(
        0,
      );
    }
    // A bad key is reported at its own value's path, in every run (the schema validator's propertyNames
    // named some other value, a different one from run to run: santhosh-tekuri/jsonschema#269).
    for (const key of ['bad key', '-bad/x', 'a/b/c', 'team/']) {
      for (let run = 0; run < 5; run++) {
        const bad = template('--set', `networkPolicy.prometheusNamespaceSelector.${key}=v`);
        expect(bad.status, key).not.toBe(0);
        expect(
          [...bad.stderr.matchAll(/at '([^']*)'/g)].map((m) => m[1]),
          key,
        ).toEqual(['/networkPolicy/prometheusNamespaceSelector']);
        expect(bad.stderr, key).toContain(`'${key}'`);
      }
    }
    const longPrefix = template('--set', `networkPolicy.prometheusNamespaceSelector.${'a'.repeat(254)}/x=v`);
    expect(longPrefix.status).not.toBe(0);
    expect(longPrefix.stderr).toContain(
      `at '/networkPolicy/prometheusNamespaceSelector/${'a'.repeat(254)}~1x': false schema`,
    );
    expect(
      template('--set', `networkPolicy.prometheusNamespaceSelector.${'a'.repeat(253)}/${'b'.repeat(63)}=v`)
        .status,
    ).toBe(0);
    expect(template('--set', 'networkPolicy.prometheusNamespaceSelector.example\\.com/team=obs').status).toBe(
      0,
    );
    // The Prometheus servers custom resources may name: refused at install unless origins.
    const origins = template(
      '--set-string',
      'tuning.prometheusOrigins=http://prom.monitoring:9090\\, https://[::1]:9091',
    );
    expect(origins.status).toBe(0);
    expect(origins.stdout).toContain(
      '- --prometheus-origins\n            - "http://prom.monitoring:9090, https://[::1]:9091"',
    );
    expect(
      parseConfig(['--prometheus-origins', 'http://prom.monitoring:9090, https://[::1]:9091'], {}),
    ).toHaveProperty('config');
    for (const bad of ['http://prom:9090/api', 'prom:9090', 'http://a@prom', 'http://a?x', 'http://p,q']) {
      const run = template('--set-string', `tuning.prometheusOrigins=${bad.replaceAll(',', '\\,')}`);
      expect(run.status, bad).not.toBe(0);
      expect(run.stderr, bad).toContain("at '/tuning/prometheusOrigins'");
    }
    // The operator would exit at start (crash-looping pods): the schema says so at install.
    for (const url of [
      'http://',
      'http://a b',
      'http://p:9090/?x=1',
      'http://p/#f',
      'prometheus:9090',
      'http://admin:pw@p:9090',
      'https://token@p/api',
    ]) {
      const bad = template('--set-string', `tuning.prometheusURL=${url}`);
      expect(bad.status, url).not.toBe(0);
      expect(bad.stderr, url).toContain("at '/tuning/prometheusURL'");
    }
    for (const url of [
      'http://prometheus.monitoring.svc:9090',
      'https://10.0.0.1/prom/',
      'http://[::1]:9090',
    ]) {
      expect(template('--set-string', `tuning.prometheusURL=${url}`).status, url).toBe(0);
    }
  });

  it('refuses one port for metrics and probes, naming both values', () => {
    const same = template('--set', 'health.port=8080');
    expect(same.status).not.toBe(0);
    expect(same.stderr).toContain('metrics.port and health.port must differ (both are 8080)');
    expect(template('--set', 'health.port=9090').status).toBe(0);
  });
  it('refuses label and annotation keys and label values the apiserver would refuse, naming the map and key', () => {
    // Else helm applies the ServiceAccount, RBAC and Service, and the apiserver refuses the Deployment.
    const labelMaps = [
      'podLabels',
      'nodeSelector',
      'serviceMonitor.additionalLabels',
      'prometheusRule.additionalLabels',
      'dashboards.additionalLabels',
      'networkPolicy.prometheusNamespaceSelector',
    ];
    const annotationMaps = ['podAnnotations', 'serviceAccount.annotations', 'metrics.service.annotations'];
    const path = (map: string) => `/${map.replaceAll('.', '/')}`;
    const refused = (set: string, message: string) => {
      const bad = template(...monitoringApi, '--set-string', set);
      expect(bad.status, set).not.toBe(0);
      expect(bad.stderr, set).toContain(message);
    };
    const longPrefix = `${'a'.repeat(254)}/x`;
    for (const map of labelMaps) {
      refused(`${map}.team=a b`, `at '${path(map)}/team': 'a b' does not match pattern`);
      refused(`${map}.team=${'v'.repeat(64)}`, `at '${path(map)}/team'`);
      refused(`${map}.team=-v`, `at '${path(map)}/team'`);
    }
    for (const map of [...labelMaps, ...annotationMaps]) {
      refused(`${map}.bad key=v`, `at '${path(map)}': additional properties 'bad key' not allowed`);
      refused(`${map}.${'k'.repeat(64)}=v`, `additional properties '${'k'.repeat(64)}' not allowed`);
      refused(`${map}.${longPrefix}=v`, `at '${path(map)}/${longPrefix.replace('/', '~1')}': false schema`);
    }
    // What the apiserver takes passes: a prefixed key (prefix up to 253), an empty label value, any annotation value.
    const key = `${'a'.repeat(253)}/${'b'.repeat(63)}`;
    const objs = render(
      '--set-string',
      `podLabels.example\\.com/team=ai-1.x_y`,
      '--set-string',
      'podLabels.empty=',
      '--set-string',
      `nodeSelector.${key}=v`,
      '--set-string',
      'podAnnotations.example\\.com/note=any text: {here}',
    );
    const pod = one(objs, 'Deployment').spec.template;
    expect(pod.metadata.labels).toMatchObject({ 'example.com/team': 'ai-1.x_y', empty: '' });
    expect(pod.metadata.annotations).toEqual({ 'example.com/note': 'any text: {here}' });
    expect(pod.spec.nodeSelector).toEqual({ [key]: 'v' });
  });

  it('refuses a priorityClassName or serviceAccount.name the apiserver would, and the default ServiceAccount', () => {
    for (const [set, message] of [
      ['priorityClassName=High', "at '/priorityClassName'"],
      ['priorityClassName=a_b', "at '/priorityClassName'"],
      [`priorityClassName=${'a'.repeat(254)}`, "at '/priorityClassName'"],
      ['serviceAccount.name=Ops', "at '/serviceAccount/name'"],
      ['serviceAccount.name=-ops', "at '/serviceAccount/name'"],
      // The chart binds its RBAC to the ServiceAccount: never to the one every pod of the namespace runs as.
      ['serviceAccount.name=default', "at '/serviceAccount/name': 'not' failed"],
    ] as const) {
      for (const create of ['true', 'false']) {
        const bad = template('--set-string', set, '--set', `serviceAccount.create=${create}`);
        expect(bad.status, set).not.toBe(0);
        expect(bad.stderr, set).toContain(message);
      }
    }
    const objs = render(
      '--set',
      'priorityClassName=system-cluster-critical',
      '--set',
      'serviceAccount.name=ops.team-a',
    );
    const pod = one(objs, 'Deployment').spec.template.spec;
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(pod.serviceAccountName).toBe('ops.team-a');
    expect(one(objs, 'ServiceAccount').metadata.name).toBe('ops.team-a');
  });

  it('refuses the security context and extras combinations the apiserver refuses, naming the field', () => {
    const volume = { name: 'a', emptyDir: {} };
    const mount = (m: Record<string, unknown>) => ({
      extraVolumes: [volume],
      extraVolumeMounts: [{ name: 'a', mountPath: '/a', ...m }],
    });
    const cases: [Record<string, unknown>, string][] = [
      // The chart sets allowPrivilegeEscalation false, which the apiserver refuses with privileged true.
      [{ securityContext: { privileged: true } }, "at '/securityContext/privileged'"],
      [
        { securityContext: { seccompProfile: { type: 'Localhost' } } },
        "at '/securityContext/seccompProfile': missing property 'localhostProfile'",
      ],
      [
        { podSecurityContext: { seccompProfile: { type: 'Localhost', localhostProfile: '' } } },
        "at '/podSecurityContext/seccompProfile/localhostProfile'",
      ],
      [
        { podSecurityContext: { appArmorProfile: { type: 'Localhost' } } },
        "at '/podSecurityContext/appArmorProfile': missing property 'localhostProfile'",
      ],
      [
        { securityContext: { appArmorProfile: { type: 'RuntimeDefault', localhostProfile: 'p' } } },
        "at '/securityContext/appArmorProfile/localhostProfile'",
      ],
      [
        { extraEnv: [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] },
        "at '/extraEnv/0/value'",
      ],
      [mount({ subPath: 'x', subPathExpr: '$(A)' }), "at '/extraVolumeMounts/0/subPathExpr'"],
      [mount({ recursiveReadOnly: 'Enabled' }), "at '/extraVolumeMounts/0': missing property 'readOnly'"],
      [
        mount({ readOnly: false, recursiveReadOnly: 'IfPossible' }),
        "at '/extraVolumeMounts/0/readOnly': value must be true",
      ],
      [
        mount({ readOnly: true, recursiveReadOnly: 'Enabled', mountPropagation: 'HostToContainer' }),
        "at '/extraVolumeMounts/0/mountPropagation'",
      ],
    ];
    for (const [values, message] of cases) {
      const bad = withValues(values, (file) => template('--values', file));
      expect(bad.status, message).not.toBe(0);
      expect(bad.stderr, message).toContain(message);
    }
    // Each allowed form renders as given.
    const pod = withValues(
      {
        securityContext: {
          privileged: false,
          seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/hal9.json' },
        },
        podSecurityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'hal9' } },
        extraEnv: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        ...mount({ subPathExpr: '$(A)', readOnly: true, recursiveReadOnly: 'IfPossible' }),
      },
      (file) => one(render('--values', file), 'Deployment').spec.template.spec,
    );
    const container = pod.containers[0];
    expect(container.securityContext).toMatchObject({
      privileged: false,
      seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/hal9.json' },
    });
    expect(pod.securityContext.appArmorProfile).toEqual({ type: 'Localhost', localhostProfile: 'hal9' });
    expect(container.volumeMounts[1]).toEqual({
      name: 'a',
      mountPath: '/a',
      subPathExpr: '$(A)',
      readOnly: true,
      recursiveReadOnly: 'IfPossible',
    });
  });

  it('takes preflight.oneOperatorCheck as a boolean (its effect for a tenant: test/integration/helm-tenant-install)', () => {
    const bad = template('--set-string', 'preflight.oneOperatorCheck=no');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("at '/preflight/oneOperatorCheck'");
  });

  it('renders topologySpreadConstraints, selecting the operator pods unless an entry says otherwise', () => {
    expect(one(render(), 'Deployment').spec.template.spec.topologySpreadConstraints).toBeUndefined();
    const zone = {
      maxSkew: 1,
      topologyKey: 'topology.kubernetes.io/zone',
      whenUnsatisfiable: 'ScheduleAnyway',
    };
    const own = {
      maxSkew: 2,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'DoNotSchedule',
      minDomains: 2,
      labelSelector: { matchLabels: { team: 'ai' } },
    };
    const objs = withValues({ topologySpreadConstraints: [zone, own] }, (file) => render('--values', file));
    const d = one(objs, 'Deployment');
    expect(d.spec.template.spec.topologySpreadConstraints).toEqual([
      { ...zone, labelSelector: { matchLabels: d.spec.selector.matchLabels } },
      own,
    ]);
    for (const [entry, message] of [
      [
        { maxSkew: 1, topologyKey: 'zone' },
        "at '/topologySpreadConstraints/0': missing property 'whenUnsatisfiable'",
      ],
      [{ ...zone, maxSkew: 0 }, "at '/topologySpreadConstraints/0/maxSkew'"],
      [{ ...zone, whenUnsatisfiable: 'Never' }, "at '/topologySpreadConstraints/0/whenUnsatisfiable'"],
      [{ ...zone, minDomains: 2 }, "at '/topologySpreadConstraints/0/whenUnsatisfiable'"],
      [{ ...zone, labelSelektor: {} }, "additional properties 'labelSelektor' not allowed"],
      ['zone', "at '/topologySpreadConstraints/0'"],
    ] as const) {
      const bad = withValues({ topologySpreadConstraints: [entry] }, (file) => template('--values', file));
      expect(bad.status, message).not.toBe(0);
      expect(bad.stderr, message).toContain(message);
    }
  });

  it('renders tolerations the apiserver takes, and refuses at install the ones it would refuse at the Deployment', () => {
    const good = [
      { key: 'dedicated', operator: 'Equal', value: 'ai', effect: 'NoSchedule' },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 30,
      },
      { operator: 'Exists' },
    ];
    const objs = withValues({ tolerations: good }, (file) => render('--values', file));
    expect(one(objs, 'Deployment').spec.template.spec.tolerations).toEqual(good);
    for (const [entry, message] of [
      [{ key: 'dedicated', effect: 'Bogus' }, "at '/tolerations/0/effect'"],
      [{ key: 'dedicated', operator: 'In' }, "at '/tolerations/0/operator'"],
      [{ key: 'dedicated', operator: 'Exists', value: 'ai' }, "at '/tolerations/0/value'"],
      [{ value: 'ai' }, "at '/tolerations/0'"],
      [{ key: 'a b', operator: 'Exists' }, "at '/tolerations/0/key'"],
      [{ key: 'dedicated', value: 'a b' }, "at '/tolerations/0/value'"],
      [{ key: 'dedicated', operator: 'Exists', tolerationSeconds: 30 }, "at '/tolerations/0'"],
      [{ key: 'dedicated', opertor: 'Exists' }, "additional properties 'opertor' not allowed"],
    ] as const) {
      const bad = withValues({ tolerations: [entry] }, (file) => template('--values', file));
      expect(bad.status, message).not.toBe(0);
      expect(bad.stderr, message).toContain(message);
    }
  });

  it('keeps the selector labels of existing installs, and documents that nameOverride is fixed after install', () => {
    // The Deployment's selector is immutable: an upgrade must render the one every earlier release did.
    const d = one(render(), 'Deployment');
    expect(d.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'hal9-operator',
      'app.kubernetes.io/instance': 'hal9',
    });
    const renamed = one(render('--set', 'nameOverride=ops'), 'Deployment');
    expect(renamed.spec.selector.matchLabels['app.kubernetes.io/name']).toBe('ops');
    const values = readFileSync(join(repoRoot, 'charts/hal9-operator/values.yaml'), 'utf8');
    const comment = values.slice(0, values.indexOf('\nnameOverride:')).split('\n\n').at(-1) ?? '';
    expect(comment).toMatch(/nameOverride is fixed after install/);
    expect(comment).toMatch(/helm uninstall, then helm install/);
    expect(comment).toMatch(/fullnameOverride/);
    const readme = readFileSync(join(repoRoot, 'charts/hal9-operator/README.md'), 'utf8');
    expect(readme).toMatch(/`nameOverride` is fixed after install/);
    expect(readme).toMatch(/uninstall and install again/);
  });

  it('documents that a resources limit below a default request needs the request set with it', () => {
    // Helm merges a limit set alone into the default requests: 64Mi under the 128Mi request is refused.
    const merged = one(render('--set', 'resources.limits.memory=64Mi'), 'Deployment').spec.template.spec
      .containers[0].resources;
    expect(merged).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '64Mi' } });
    const fix = '--set resources.requests.memory=64Mi,resources.limits.memory=64Mi';
    const both = one(render(...fix.split(' ')), 'Deployment').spec.template.spec.containers[0].resources;
    expect(both).toEqual({ requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '64Mi' } });
    const values = readFileSync(join(repoRoot, 'charts/hal9-operator/values.yaml'), 'utf8');
    const comment = values.slice(0, values.indexOf('\nresources:')).split('\n\n').at(-1) ?? '';
    expect(comment).toContain(fix);
    expect(comment).toContain('--set resources.limits.memory=64Mi');
    expect(readFileSync(join(repoRoot, 'charts/hal9-operator/README.md'), 'utf8')).toContain(fix);
  });

  it('renders names YAML would read as booleans or numbers as strings, and a release name with dots as a Service name', () => {
    // yes, on, 123 and 1e3 are valid namespace, object and label names; unquoted, the apiserver gets a
    // bool or a number and refuses the object ("cannot unmarshal bool into ... namespace of type string").
    const values = {
      watchNamespace: 'on',
      nameOverride: '123',
      priorityClassName: 'yes',
      serviceAccount: { create: true, name: '1e3' },
      rbac: { create: true, adminTokenSecrets: [{ namespace: 'no', names: ['hal9-admin-token'] }] },
    };
    const objs = withValues(values, (file) => {
      const run = helm(
        ...['template', 'my.rel', '.', '--namespace', 'yes', '--kube-version', kubeVersion, '-f', file],
        ...monitoringApi,
        ...admissionApi,
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      // As the apiserver reads it (sigs.k8s.io/yaml, YAML 1.1): yes, on and no are booleans there.
      return parseAllDocuments(run.stdout, { version: '1.1' }).flatMap((d) =>
        d.toJS() ? [d.toJS() as Obj] : [],
      );
    });
    expect(kinds(objs)).toEqual(expect.arrayContaining(['Service', 'ServiceMonitor', 'PrometheusRule']));
    const notStrings: string[] = [];
    const scalarNames = new Set(['name', 'namespace', 'priorityClassName', 'serviceAccountName']);
    const walk = (v: unknown, path: string): void => {
      if (Array.isArray(v))
        v.forEach((x, i) => {
          walk(x, `${path}[${i}]`);
        });
      if (!v || typeof v !== 'object' || Array.isArray(v)) return;
      for (const [k, x] of Object.entries(v)) {
        const at = `${path}.${k}`;
        if (scalarNames.has(k) && (x === null || typeof x !== 'object') && typeof x !== 'string')
          notStrings.push(`${at}: ${JSON.stringify(x)}`);
        const values =
          k === 'labels' || k === 'matchLabels' || k === 'matchNames' ? Object.values(x ?? {}) : [];
        for (const label of values)
          if (typeof label !== 'string') notStrings.push(`${at}: ${JSON.stringify(label)}`);
        walk(x, at);
      }
    };
    for (const o of objs) walk(o, `${o.kind}`);
    expect(notStrings).toEqual([]);
    const deployment = one(objs, 'Deployment');
    expect(deployment.metadata.namespace).toBe('yes');
    expect(deployment.spec.template.spec.priorityClassName).toBe('yes');
    expect(deployment.spec.template.spec.serviceAccountName).toBe('1e3');
    expect(deployment.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': '123',
      'app.kubernetes.io/instance': 'my.rel',
    });
    // A Service name is a DNS label: the release name's dots become dashes in every name.
    const service = one(objs, 'Service');
    expect(service.metadata.name).toBe('my-rel-123-metrics');
    expect(deployment.metadata.name).toBe('my-rel-123');
  });
});
