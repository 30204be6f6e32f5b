import type { V1ConfigMap, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { runtimePodSpec } from './builders.ts';
import {
  checkUpstream,
  configArgument,
  endpointRefs,
  expandEnv,
  planPodProcess,
  podReferences,
  rerooter,
  resolveEndpoints,
  serviceOfHost,
} from './pod-process-plan.ts';

const configYaml = [
  'server:',
  '  auth_token_file: /var/run/hal9/token',
  'neurons:',
  '  - id: a',
  '    layer: L3',
  '    forward_connections: [b]',
  '  - id: b',
  '    layer: L2',
  '    endpoint: http://hal9-b.ns.svc:8080',
  '',
].join('\n');

function neuronPod(overrides: { podIP?: string } = {}): V1Pod {
  const spec = runtimePodSpec({
    configMapName: 'a-config',
    env: [
      { name: 'HAL9_AUTH_TOKEN', valueFrom: { secretKeyRef: { name: 'admin', key: 'token' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'ATTRS', value: 'k8s.pod.name=$(POD_NAME),later=$(LATER),cost=$$(POD_NAME)' },
      { name: 'LATER', value: 'x' },
    ],
  });
  const container = spec.containers[0]!;
  container.volumeMounts!.push({ name: 'token', mountPath: '/var/run/hal9', readOnly: true });
  spec.volumes!.push({
    name: 'token',
    secret: { secretName: 'admin', items: [{ key: 'token', path: 'token' }] },
  });
  return {
    metadata: { namespace: 'ns', name: 'a-0', uid: 'uid-1' },
    spec,
    status: { phase: 'Running', podIP: overrides.podIP ?? '127.9.0.4' },
  };
}

const configMaps = new Map<string, V1ConfigMap>([['a-config', { data: { 'config.yaml': configYaml } }]]);
const secrets = new Map<string, V1Secret>([
  ['admin', { data: { token: Buffer.from('s3cret').toString('base64') } }],
]);

describe('podReferences', () => {
  it('names the ConfigMaps and Secrets the container mounts or reads in env', () => {
    expect(podReferences(neuronPod())).toEqual({ configMaps: ['a-config'], secrets: ['admin'] });
  });
});

describe('configArgument', () => {
  const env = { HAL9_CONFIG: '/from/env.yaml' };
  it.each([
    [
      'args only (the image ENTRYPOINT runs the runtime)',
      { args: ['/etc/hal9/config.yaml'] },
      '/etc/hal9/config.yaml',
    ],
    ['a command naming the sources', { command: ['node', 'runtime/src/main.ts', '/c.yaml'] }, '/c.yaml'],
    [
      'a command naming the bundle, config in args',
      { command: ['node', 'runtime/dist/main.js'], args: ['/c.yaml'] },
      '/c.yaml',
    ],
    ['neither: HAL9_CONFIG', {}, '/from/env.yaml'],
    [
      'a command without the config: HAL9_CONFIG',
      { command: ['node', 'runtime/dist/main.js'] },
      '/from/env.yaml',
    ],
  ])('%s', (_, container, expected) => {
    expect(configArgument({ name: 'runtime', ...container }, env)).toBe(expected);
  });
});

describe('planPodProcess', () => {
  const rootDir = '/r/pods/a/root';

  it('binds the pod IP and container port, re-roots mounts, resolves env', () => {
    const plan = planPodProcess({ pod: neuronPod(), configMaps, secrets, rootDir, extraEnv: { X: '1' } });
    if (!plan.ok) throw new Error(plan.error);
    const p = plan.value;
    expect(p.ip).toBe('127.9.0.4');
    expect(p.port).toBe(8080);
    expect(p.env).toMatchObject({
      HOST: '127.9.0.4',
      PORT: '8080',
      HAL9_CONFIG: `${rootDir}/etc/hal9/config.yaml`,
      HAL9_AUTH_TOKEN: 's3cret',
      POD_NAME: 'a-0',
      // Expanded as the kubelet does: from variables listed before only.
      ATTRS: 'k8s.pod.name=a-0,later=$(LATER),cost=$(POD_NAME)',
      X: '1',
    });
    expect(p.args).toEqual([`${rootDir}/etc/hal9/config.yaml`]);
    expect(p.dirs).toEqual([`${rootDir}/etc/hal9`, `${rootDir}/tmp`, `${rootDir}/var/run/hal9`]);
    const token = p.files.find((f) => f.path === `${rootDir}/var/run/hal9/token`);
    expect(Buffer.from(token!.data).toString()).toBe('s3cret');
    const config = p.files.find((f) => f.path === p.configPath);
    expect(config?.data).toContain(`auth_token_file: ${rootDir}/var/run/hal9/token`);
    expect(config?.data).toContain('endpoint: http://hal9-b.ns.svc:8080');
  });

  it('lets HOST and PORT come only from the pod', () => {
    const plan = planPodProcess({
      pod: neuronPod(),
      configMaps,
      secrets,
      rootDir,
      extraEnv: { HOST: '0.0.0.0', PORT: '1' },
    });
    expect(plan.ok && plan.value.env).toMatchObject({ HOST: '127.9.0.4', PORT: '8080' });
  });

  it('refuses a pod IP outside 127.0.0.0/8', () => {
    const plan = planPodProcess({ pod: neuronPod({ podIP: '10.244.0.4' }), configMaps, secrets, rootDir });
    expect(plan).toEqual({
      ok: false,
      error:
        'HAL9_TEST_NON_LOOPBACK: pod ns/a-0 status.podIP is "10.244.0.4", outside 127.0.0.0/8: not started',
    });
  });

  it('names a missing ConfigMap, Secret or key', () => {
    expect(planPodProcess({ pod: neuronPod(), configMaps: new Map(), secrets, rootDir })).toEqual({
      ok: false,
      error: 'pod ns/a-0: volume config: ConfigMap a-config not found',
    });
    const noKey = new Map<string, V1Secret>([['admin', { data: {} }]]);
    expect(planPodProcess({ pod: neuronPod(), configMaps, secrets: noKey, rootDir })).toEqual({
      ok: false,
      error: 'pod ns/a-0: volume token: Secret admin has no key "token"',
    });
  });
});

describe('expandEnv', () => {
  it('expands $(NAME) as the kubelet does: defined names only, $$ for one $, the rest as written', () => {
    const defined = { A: 'a', EMPTY: '' };
    expect(expandEnv('$(A)-$(EMPTY)-$(B)', defined)).toBe('a--$(B)');
    expect(expandEnv('$$(A) $$ $x $ $(A', defined)).toBe('$(A) $ $x $ $(A');
    expect(expandEnv('$(A $$)', defined)).toBe('$(A $$)');
  });
});

describe('paths and endpoints', () => {
  it('re-roots only paths under a mount', () => {
    const reroot = rerooter('/r', ['/etc/hal9', '/tmp/']);
    expect(reroot('/etc/hal9/config.yaml')).toBe('/r/etc/hal9/config.yaml');
    expect(reroot('/etc/hal9')).toBe('/r/etc/hal9');
    expect(reroot('/etc/hal90/x')).toBe('/etc/hal90/x');
    expect(reroot('/tmp/../etc/passwd')).toBe('/tmp/../etc/passwd');
    expect(reroot('relative')).toBe('relative');
  });

  it('maps cluster DNS names to Services', () => {
    expect(serviceOfHost('hal9-b.ns.svc', 'x')).toEqual({ namespace: 'ns', name: 'hal9-b' });
    expect(serviceOfHost('hal9-b.ns.svc.cluster.local', 'x')).toEqual({ namespace: 'ns', name: 'hal9-b' });
    expect(serviceOfHost('hal9-b', 'x')).toEqual({ namespace: 'x', name: 'hal9-b' });
    expect(serviceOfHost('api.anthropic.com', 'x')).toBeUndefined();
    expect(serviceOfHost('example.com', 'x')).toBeUndefined();
    expect(endpointRefs(configYaml, 'ns')).toEqual([
      { neuron: 'b', endpoint: 'http://hal9-b.ns.svc:8080', service: { namespace: 'ns', name: 'hal9-b' } },
    ]);
  });

  it('rewrites a Service endpoint to its loopback ClusterIP and refuses anything else', () => {
    const svc = (clusterIP: string): ReadonlyMap<string, V1Service> =>
      new Map([['ns/hal9-b', { spec: { clusterIP } }]]);
    const ok = resolveEndpoints(configYaml, 'ns', svc('127.9.254.7'));
    expect(ok.ok && ok.value).toContain('endpoint: http://127.9.254.7:8080\n');
    expect(resolveEndpoints(configYaml, 'ns', svc('10.0.0.7'))).toEqual({
      ok: false,
      error: 'HAL9_TEST_NON_LOOPBACK: Service ns/hal9-b clusterIP "10.0.0.7" is not a 127.x address',
    });
    expect(resolveEndpoints(configYaml, 'ns', new Map())).toEqual({
      ok: false,
      error: 'neuron b endpoint http://hal9-b.ns.svc:8080: Service ns/hal9-b not found (yet)',
    });
    const external = configYaml.replace('http://hal9-b.ns.svc:8080', 'https://example.com');
    const refused = resolveEndpoints(external, 'ns', new Map());
    expect(!refused.ok && refused.error).toMatch(
      /^HAL9_TEST_NON_LOOPBACK: neuron b endpoint https:\/\/example.com/,
    );
  });

  it('allows api mode only with a loopback Messages API', () => {
    expect(checkUpstream('claude: { mode: mock }', {})).toBeUndefined();
    expect(checkUpstream('claude: { mode: api }', {})).toMatch(/HAL9_TEST_NON_LOOPBACK: .*the public API/);
    expect(
      checkUpstream('claude: { mode: api }', { ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' }),
    ).toBeUndefined();
    expect(checkUpstream('claude: { mode: mock }', { HAL9_MODE: 'api' })).toMatch(/HAL9_TEST_NON_LOOPBACK/);
    expect(checkUpstream('claude: { mode: api, base_url: "http://10.1.1.1" }', {})).toMatch(
      /"http:\/\/10.1.1.1"/,
    );
  });
});
