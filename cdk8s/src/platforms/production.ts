import type { Hal9PlatformProps } from '../hal9-platform.ts';
import type { RepositoryInputs } from '../inputs.ts';

/**
 * The production platform of samples/production as code: performance nodes, the guide's resources,
 * safe sysctls (no hugepages: the runtime never maps them), the operator's autoscaling from 2 to 10 pods and parallelism tuning
 * against a 50 ms SLO;
 * the default topology strategic-1 (L4) → design-1 (L3) → impl-1 (L2).
 */
export function productionPlatform(
  inputs: Pick<RepositoryInputs, 'dashboards' | 'prometheusRules'>,
): Hal9PlatformProps {
  return {
    name: 'hal9-production',
    namespace: 'hal9',
    createNamespace: true,
    cluster: {
      image: 'hal9/runtime:0.1.0',
      imagePullPolicy: 'IfNotPresent',
      entryNeuron: 'strategic-1',
      // `api` needs a Secret with the Anthropic key and claude.apiKeySecretRef.
      claude: { mode: 'mock', model: 'claude-sonnet-5-5', maxTokens: 1024, timeoutMs: 30000 },
      performance: {
        signalBufferSize: 10,
        bufferFlushMs: 50,
        cacheTtlSeconds: 300,
        cacheMaxEntries: 1000,
        cacheLayers: ['L2'],
        maxConcurrentSignals: 8,
        maxQueueDepth: 1000,
        maxConcurrentNeurons: 10,
        hopLimit: 16,
        requestTimeoutMs: 30000,
        circuitBreaker: { failureThreshold: 5, successThreshold: 3, timeoutSeconds: 30, windowSeconds: 60 },
        connectionPool: { maxConnectionsPerHost: 10, idleTimeoutSeconds: 90 },
      },
      resources: { requests: { cpu: '2000m', memory: '2Gi' }, limits: { cpu: '4000m', memory: '4Gi' } },
      placement: {
        requiredNodeLabels: [{ key: 'node-type', operator: 'In', values: ['performance'] }],
        topologySpread: {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
        },
      },
      nodeTuning: {
        sysctls: [
          { name: 'net.ipv4.ip_local_port_range', value: '1024 65000' },
          { name: 'net.ipv4.tcp_fin_timeout', value: '15' },
          { name: 'net.ipv4.tcp_keepalive_time', value: '600' },
        ],
        cpuPinning: false,
      },
      autoscaling: {
        // The operator decides replicas and per-pod parallelism together from the load the pods
        // report: a neuron pod mostly waits on Claude, so CPU says little. `mode: hpa` (with
        // targetCPUUtilizationPercentage and behavior) is the CPU alternative.
        enabled: true,
        mode: 'operator',
        minReplicas: 2,
        maxReplicas: 10,
        targetConcurrencyPerPod: 32,
        targetUtilizationPercentage: 70,
        stableWindowSeconds: 60,
        panicWindowSeconds: 6,
        scaleDownDelaySeconds: 0,
        metricsSource: 'pods',
        // max: a pod runs at most maxConcurrentNeurons model calls at once (10, and in api mode no
        // more than the pool's connections); a limit above that only waits for a call.
        parallelism: { enabled: true, min: 2, max: 10, latencySLOMs: 50 },
      },
      // The platform ships a PrometheusRule, so the Prometheus Operator is there: its ServiceMonitors
      // are what scrape the runtime pods (without the API the operator skips them, with a warning).
      // kube-prometheus-stack selects rules and monitors by its release label by default: set
      // serviceMonitorLabels (and the platform's prometheusRuleLabels) to match.
      monitoring: { serviceMonitor: true, scrapeInterval: '15s' },
    },
    neurons: [
      {
        id: 'strategic-1',
        layer: 'L4',
        systemPrompt:
          'You are a strategic neuron. Break the request into design tasks and forward them with FORWARD_TO and CONTENT.',
        forwardConnections: ['design-1'],
      },
      {
        id: 'design-1',
        layer: 'L3',
        systemPrompt:
          'You are a design neuron. Turn the strategy into implementation tasks and forward them with FORWARD_TO and CONTENT.',
        forwardConnections: ['impl-1'],
        backwardConnections: ['strategic-1'],
      },
      {
        id: 'impl-1',
        layer: 'L2',
        systemPrompt:
          'You are an implementation neuron. Answer with the concrete result, prefixed by RESULT.',
        backwardConnections: ['design-1'],
        // Implementation answers repeat most: a larger cache for this neuron only.
        cache: { enabled: true, ttlSeconds: 600, maxEntries: 5000 },
        performance: { maxConcurrentSignals: 10 },
      },
    ],
    dashboards: inputs.dashboards,
    prometheusRules: inputs.prometheusRules,
  };
}

export default productionPlatform;
