// Generated from the CRD by scripts/gen-types.ts (npm run gen:types). Do not edit.
import type { V1ObjectMeta } from '@kubernetes/client-node';

export const neuronGroup = "hal9.ai";
export const neuronVersion = "v1alpha1";
export const neuronApiVersion = "hal9.ai/v1alpha1";
export const neuronKind = "Neuron";
export const neuronPlural = "neurons";

/**
 * Neuron is one hierarchical LLM neuron: the operator runs it as a Deployment of the Hal9 runtime with a ConfigMap, a Service, and optionally an HPA and a PodDisruptionBudget, tuned from its Hal9Cluster's defaults and its own overrides.
 */
export interface Neuron {
  readonly apiVersion?: "hal9.ai/v1alpha1";
  readonly kind?: "Neuron";
  readonly metadata?: V1ObjectMeta;
  readonly spec: NeuronSpec;
  readonly status?: NeuronStatus;
}

/**
 * Desired state of the neuron. Sections performance, resources, placement, nodeTuning, autoscaling, claude, monitoring and tracing override the Hal9Cluster's.
 */
export interface NeuronSpec {
  /**
   * Name of the Hal9Cluster (same namespace) this neuron belongs to. Immutable.
   */
  readonly cluster: string;
  /**
   * Layer of the neuron, L1 to L9 (default topology: L4 strategic → L3 design → L2 implementation).
   */
  readonly layer: "L1" | "L2" | "L3" | "L4" | "L5" | "L6" | "L7" | "L8" | "L9";
  /**
   * System prompt sent to Claude with every signal of this neuron. Default: empty.
   * @default ""
   */
  readonly systemPrompt?: string;
  /**
   * Neurons this neuron may forward signals to (FORWARD_TO: targets outside this list are dropped and reported). Names of Neurons in the same namespace, without duplicates, never the neuron itself. Default: none.
   * @default []
   */
  readonly forwardConnections?: readonly string[];
  /**
   * Neurons this neuron may send errors back to (BACKWARD_TO:). Names of Neurons in the same namespace, without duplicates, never the neuron itself. Default: none.
   * @default []
   */
  readonly backwardConnections?: readonly string[];
  /**
   * Runtime pods of this neuron (target of the scale subresource, so `kubectl scale nrn` works). With autoscaling off it is yours; in operator mode the operator writes it through the scale subresource and overrides a manual change (event ManualScaleOverridden); in hpa mode it is ignored. Leaving hpa mode, the operator sets it once to the count the HorizontalPodAutoscaler left the Deployment at, so the switch removes no pod. Default: 1.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Response cache of this neuron; unset fields come from the cluster's performance section (cacheLayers, cacheTtlSeconds, cacheMaxEntries).
   */
  readonly cache?: NeuronSpecCache;
  /**
   * Overrides of the cluster's performance section, field by field; unset fields come from the Hal9Cluster.
   */
  readonly performance?: NeuronSpecPerformance;
  /**
   * Overrides of the cluster's resources, field by field (requests.cpu, limits.memory, ...); unset fields come from the Hal9Cluster.
   */
  readonly resources?: NeuronSpecResources;
  /**
   * Overrides of the cluster's placement, field by field; a list given here replaces the cluster's list.
   */
  readonly placement?: NeuronSpecPlacement;
  /**
   * Overrides of the cluster's nodeTuning, field by field; sysctls given here replace the cluster's list. Privileged tuning is the Hal9Cluster's to allow: a Neuron may turn privilegedSysctlInitContainer and thpInitContainer off, but either is on only where the Hal9Cluster's is on too; past the safe set, the privileged init container writes only the sysctls the Hal9Cluster allows a Neuron (its nodeTuning.neuronSysctls, or the names of its own sysctls; any other is left out, with a warning); and initImage is set on the Hal9Cluster only.
   */
  readonly nodeTuning?: NeuronSpecNodeTuning;
  /**
   * Overrides of the cluster's autoscaling, field by field.
   */
  readonly autoscaling?: NeuronSpecAutoscaling;
  /**
   * Overrides of the cluster's claude section, field by field; mockResponses and prices merge per layer and per model (a model's price given here replaces the cluster's price of that model), and an apiKeySecretRef given here replaces the cluster's. A Neuron that sets baseURL names its own apiKeySecretRef: the Hal9Cluster's API key goes only to the Hal9Cluster's URL.
   */
  readonly claude?: NeuronSpecClaude;
  /**
   * Overrides of the cluster's monitoring, field by field (serviceMonitorLabels are added to the cluster's; the neuron's win a clash).
   */
  readonly monitoring?: NeuronSpecMonitoring;
  /**
   * Overrides of the cluster's tracing, field by field (resourceAttributes are added to the cluster's; the neuron's win a clash; each Secret reference replaces the cluster's whole; a Neuron that sets its own endpoint gets none of the cluster's Secret references, headersSecretRef, caSecretRef and clientCertSecretRef, which are for the cluster's collector: it names its own). With an endpoint it turns tracing on for this neuron alone when the Hal9Cluster has none.
   */
  readonly tracing?: NeuronSpecTracing;
}

/**
 * Response cache of this neuron; unset fields come from the cluster's performance section (cacheLayers, cacheTtlSeconds, cacheMaxEntries).
 */
export interface NeuronSpecCache {
  /**
   * Cache this neuron's answers (default: whether its layer is in performance.cacheLayers).
   */
  readonly enabled?: boolean;
  /**
   * Time to live of cached answers, in seconds. Default: the Hal9Cluster's performance.cacheTtlSeconds (300 unless set there).
   */
  readonly ttlSeconds?: number;
  /**
   * Maximum number of cached answers per process. Default: the Hal9Cluster's performance.cacheMaxEntries (1000 unless set there).
   */
  readonly maxEntries?: number;
}

/**
 * Overrides of the cluster's performance section, field by field; unset fields come from the Hal9Cluster.
 */
export interface NeuronSpecPerformance {
  /**
   * Signals per batch: a batch buffer flushes when it holds this many signals. Default: the Hal9Cluster's (10 unless set there).
   */
  readonly signalBufferSize?: number;
  /**
   * Longest time a signal waits in a batch buffer, in milliseconds (an idle executor flushes at once). Default: the Hal9Cluster's (50 unless set there).
   */
  readonly bufferFlushMs?: number;
  /**
   * Time to live of cached answers, in seconds. Default: the Hal9Cluster's (300 unless set there).
   */
  readonly cacheTtlSeconds?: number;
  /**
   * Maximum number of cached answers per process. Default: the Hal9Cluster's (1000 unless set there).
   */
  readonly cacheMaxEntries?: number;
  /**
   * Layers whose neurons cache answers (a Neuron's spec.cache.enabled overrides this for that neuron). Default: the Hal9Cluster's (L2 unless set there).
   */
  readonly cacheLayers?: readonly ("L1" | "L2" | "L3" | "L4" | "L5" | "L6" | "L7" | "L8" | "L9")[];
  /**
   * Executor limit: signals processed concurrently per pod. The operator changes it at run time when autoscaling.parallelism is enabled. Default: the Hal9Cluster's (8 unless set there).
   */
  readonly maxConcurrentSignals?: number;
  /**
   * Bound on the signals a pod holds waiting (its buffers, its executor queue, and those sent or waiting to go to a peer pod); new requests and peers' batches that would pass it get 429 with Retry-After; the signals an admitted request fans out into are always taken. Default: the Hal9Cluster's (1000 unless set there).
   */
  readonly maxQueueDepth?: number;
  /**
   * Concurrent model calls per pod; in api mode they are also held to connectionPool.maxConnectionsPerHost. A signal holding an executor slot past them waits for a call, so the parallelism tuner stops there (unless parallelism.min is higher) and the operator's replica autoscaler sizes pods by them. Default: the Hal9Cluster's (10 unless set there).
   */
  readonly maxConcurrentNeurons?: number;
  /**
   * The most neurons one path of a request visits, the entry neuron included (16 allows 15 forwards): forwarding past it ends that branch with HOP_LIMIT_EXCEEDED. Default: the Hal9Cluster's (16 unless set there).
   */
  readonly hopLimit?: number;
  /**
   * Deadline of one request, in milliseconds. The pod's termination grace period is derived from it so draining can finish. Default: the Hal9Cluster's (30000 unless set there).
   */
  readonly requestTimeoutMs?: number;
  /**
   * Circuit breaker per upstream.
   */
  readonly circuitBreaker?: NeuronSpecPerformanceCircuitBreaker;
  /**
   * Pooled HTTP connections to the Claude API and to other runtime pods.
   */
  readonly connectionPool?: NeuronSpecPerformanceConnectionPool;
  /**
   * What one request may consume on one runtime pod (the runtime's performance.request_budget). Exceeding a budget ends that branch of the request with a stable error code while the rest of the request goes on; a model's answer can be steered by the content a caller sends, and these budgets are what bound it.
   */
  readonly requestBudget?: NeuronSpecPerformanceRequestBudget;
}

/**
 * Circuit breaker per upstream.
 */
export interface NeuronSpecPerformanceCircuitBreaker {
  /**
   * Failures within windowSeconds that open the breaker. Default: the Hal9Cluster's (5 unless set there).
   */
  readonly failureThreshold?: number;
  /**
   * Successful trial calls that close a half-open breaker. Default: the Hal9Cluster's (3 unless set there).
   */
  readonly successThreshold?: number;
  /**
   * Seconds the breaker stays open before it lets trial calls through. Default: the Hal9Cluster's (30 unless set there).
   */
  readonly timeoutSeconds?: number;
  /**
   * Length of the failure-counting window, in seconds. Default: the Hal9Cluster's (60 unless set there).
   */
  readonly windowSeconds?: number;
}

/**
 * Pooled HTTP connections to the Claude API and to other runtime pods.
 */
export interface NeuronSpecPerformanceConnectionPool {
  /**
   * Connections per upstream host. In api mode the model calls a pod runs at once are held to it as well as to maxConcurrentNeurons, and so are the parallelism tuner's limit and the replica autoscaler's per-pod target. Default: the Hal9Cluster's (10 unless set there).
   */
  readonly maxConnectionsPerHost?: number;
  /**
   * Seconds an idle pooled connection is kept. Default: the Hal9Cluster's (90 unless set there).
   */
  readonly idleTimeoutSeconds?: number;
}

/**
 * What one request may consume on one runtime pod (the runtime's performance.request_budget). Exceeding a budget ends that branch of the request with a stable error code while the rest of the request goes on; a model's answer can be steered by the content a caller sends, and these budgets are what bound it.
 */
export interface NeuronSpecPerformanceRequestBudget {
  /**
   * Children one answer may forward (a target once per distinct content); further ones are dropped with an error. Default: the Hal9Cluster's (10 unless set there).
   */
  readonly maxFanout?: number;
  /**
   * Signals in one request's tree. On a pod a request was forwarded to, its signals are held to what it had left on the pod that forwarded it too, so along any path the request is held to its entry pod's budget. Default: the Hal9Cluster's (500 unless set there).
   */
  readonly maxSignals?: number;
  /**
   * Model calls of one request, each counted once with its retries (claude.retry.maxRetries, or the SDK's claude.maxRetries) and fallbacks; cache hits are free. On a pod a request was forwarded to, its calls are held to what it had left on the pod that forwarded it too, so along any path the request is held to its entry pod's budget. Default: the Hal9Cluster's (200 unless set there).
   */
  readonly maxModelCalls?: number;
  /**
   * Tokens of one request (input, output, cache reads and cache writes). On a pod a request was forwarded to, its calls are held to what it had left on the pod that forwarded it too. Default: the Hal9Cluster's (2000000 unless set there).
   */
  readonly maxTokens?: number;
  /**
   * Cost of one request in USD, counted for models that claude.prices lists; 0: no cost budget. On a pod a request was forwarded to, its calls are held to what it had left on the pod that forwarded it too, so along any path the request is held to its entry pod's budget. Default: the Hal9Cluster's (0 unless set there).
   */
  readonly maxCostUSD?: number;
}

/**
 * Overrides of the cluster's resources, field by field (requests.cpu, limits.memory, ...); unset fields come from the Hal9Cluster.
 */
export interface NeuronSpecResources {
  /**
   * Requested CPU and memory (what the scheduler reserves).
   */
  readonly requests?: NeuronSpecResourcesRequests;
  /**
   * CPU and memory limits. The Node.js heap is sized to 75% of the memory limit.
   */
  readonly limits?: NeuronSpecResourcesLimits;
}

/**
 * Requested CPU and memory (what the scheduler reserves).
 */
export interface NeuronSpecResourcesRequests {
  /**
   * CPU, a Kubernetes quantity: whole cores as a number or a string (2, "2"), millicores ("1500m"), or a fraction in quotes ("0.5"): YAML reads 0.5 as a number, and a number here must be whole. At most 8192 cores.
   */
  readonly cpu?: number | string;
  /**
   * Memory, a Kubernetes quantity: "512Mi", "2Gi" (powers of 1024), "500M", "2G" (powers of 1000) or a whole number of bytes (1073741824). At least 64Mi: a runtime holds about 100 MB once it listens; at most 1Pi.
   */
  readonly memory?: number | string;
}

/**
 * CPU and memory limits. The Node.js heap is sized to 75% of the memory limit.
 */
export interface NeuronSpecResourcesLimits {
  /**
   * CPU, a Kubernetes quantity: whole cores as a number or a string (2, "2"), millicores ("1500m"), or a fraction in quotes ("0.5"): YAML reads 0.5 as a number, and a number here must be whole. At most 8192 cores.
   */
  readonly cpu?: number | string;
  /**
   * Memory, a Kubernetes quantity: "512Mi", "2Gi" (powers of 1024), "500M", "2G" (powers of 1000) or a whole number of bytes (1073741824). At least 128Mi: a runtime holds about 100 MB once it listens; at most 1Pi.
   */
  readonly memory?: number | string;
}

/**
 * Overrides of the cluster's placement, field by field; a list given here replaces the cluster's list.
 */
export interface NeuronSpecPlacement {
  /**
   * Node labels the pods require (exact match).
   */
  readonly nodeSelector?: { readonly [key: string]: string };
  /**
   * Required node affinity: every requirement must hold (the guide uses `node-type In [performance]`).
   */
  readonly requiredNodeLabels?: readonly NeuronSpecPlacementRequiredNodeLabelsItem[];
  /**
   * Preferred node affinity: each matching requirement adds its weight to a node's score.
   */
  readonly preferredNodeLabels?: readonly NeuronSpecPlacementPreferredNodeLabelsItem[];
  /**
   * Taints the pods tolerate, for example of dedicated performance nodes.
   */
  readonly tolerations?: readonly NeuronSpecPlacementTolerationsItem[];
  /**
   * Spread of the neuron's pods over a topology domain (hosts by default).
   */
  readonly topologySpread?: NeuronSpecPlacementTopologySpread;
}

export interface NeuronSpecPlacementRequiredNodeLabelsItem {
  /**
   * Node label key, for example `node-type`.
   */
  readonly key: string;
  /**
   * In (when unset), NotIn (both need values), Exists or DoesNotExist (take no values). Default: In.
   */
  readonly operator?: "In" | "NotIn" | "Exists" | "DoesNotExist";
  /**
   * Label values for In and NotIn.
   */
  readonly values?: readonly string[];
}

export interface NeuronSpecPlacementPreferredNodeLabelsItem {
  /**
   * Preference weight, 1 to 100. Default: 1.
   */
  readonly weight?: number;
  /**
   * Node label key, for example `node-type`.
   */
  readonly key: string;
  /**
   * In (when unset), NotIn (both need values), Exists or DoesNotExist (take no values). Default: In.
   */
  readonly operator?: "In" | "NotIn" | "Exists" | "DoesNotExist";
  /**
   * Label values for In and NotIn.
   */
  readonly values?: readonly string[];
}

export interface NeuronSpecPlacementTolerationsItem {
  /**
   * Taint key; empty with operator Exists tolerates every taint.
   */
  readonly key?: string;
  /**
   * Equal (key and value match) or Exists (key matches). Default: Equal.
   */
  readonly operator?: "Equal" | "Exists";
  /**
   * Taint value for operator Equal (a label value).
   */
  readonly value?: string;
  /**
   * Taint effect to tolerate; empty means all effects.
   */
  readonly effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  /**
   * For NoExecute: seconds the pod stays bound after the taint appears.
   */
  readonly tolerationSeconds?: number;
}

/**
 * Spread of the neuron's pods over a topology domain (hosts by default).
 */
export interface NeuronSpecPlacementTopologySpread {
  /**
   * Largest allowed difference in pod count between two domains. Default: the Hal9Cluster's (1 unless set there).
   */
  readonly maxSkew?: number;
  /**
   * Node label that defines the domains. Default: the Hal9Cluster's (kubernetes.io/hostname unless set there).
   */
  readonly topologyKey?: string;
  /**
   * DoNotSchedule (hard) or ScheduleAnyway (soft). Default: the Hal9Cluster's (ScheduleAnyway unless set there).
   */
  readonly whenUnsatisfiable?: "DoNotSchedule" | "ScheduleAnyway";
}

/**
 * Overrides of the cluster's nodeTuning, field by field; sysctls given here replace the cluster's list. Privileged tuning is the Hal9Cluster's to allow: a Neuron may turn privilegedSysctlInitContainer and thpInitContainer off, but either is on only where the Hal9Cluster's is on too; past the safe set, the privileged init container writes only the sysctls the Hal9Cluster allows a Neuron (its nodeTuning.neuronSysctls, or the names of its own sysctls; any other is left out, with a warning); and initImage is set on the Hal9Cluster only.
 */
export interface NeuronSpecNodeTuning {
  /**
   * Kernel parameters. The safe set (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_local_reserved_ports, net.ipv4.ip_unprivileged_port_start, net.ipv4.ping_group_range, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_rmem, net.ipv4.tcp_syncookies, net.ipv4.tcp_wmem) goes into the pod's securityContext.sysctls, and a value the kernel would refuse there (out of its bounds, or a port range against net.ipv4.ip_unprivileged_port_start) is refused on apply, since the pod would never start (FailedCreatePodSandBox), and so is a net.ipv4.ip_unprivileged_port_start above 8080, the runtime's port, which the runtime (no root, no capabilities) could then not listen on; any other name needs privilegedSysctlInitContainer: true. Names are written with dots (net.ipv4.tcp_keepalive_time, not net/ipv4/tcp_keepalive_time). There is no tcp_nodelay sysctl: the runtime sets TCP_NODELAY on its sockets.
   */
  readonly sysctls?: readonly NeuronSpecNodeTuningSysctlsItem[];
  /**
   * Set sysctls outside the safe set with a privileged init container (`sysctl -w`), run in the pod's namespaces. A namespaced net.* sysctl (net.core.somaxconn, net.ipv4.tcp_slow_start_after_idle) applies to the pod's own network namespace; a global-only one such as net.core.netdev_max_backlog does not exist there, so the init container fails and the pod stays in Init:CrashLoopBackOff (set it on the node instead); kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* apply to the pod's IPC namespace; vm.*, fs.* and the other kernel.* ones are written for the whole node (every pod on it) and outlive the pod. Privileged containers are root on the node; prefer the safe set or node configuration owned by cluster admins. A Neuron may turn it off; it is on only where its Hal9Cluster's is on too (privileged tuning is the Hal9Cluster's to allow): true here over a Hal9Cluster's false is rendered as false, with a warning. Default: the Hal9Cluster's (false unless set there).
   */
  readonly privilegedSysctlInitContainer?: boolean;
  /**
   * Set on the Hal9Cluster only: which sysctls outside the safe set its Neurons may write with the privileged init container (refused here).
   */
  readonly neuronSysctls?: readonly string[];
  /**
   * Transparent hugepages mode to write to /sys/kernel/mm/transparent_hugepage/enabled on the node (needs thpInitContainer: true). `unset` leaves the node alone. This is node-wide and outlives the pod. Default: the Hal9Cluster's (unset unless set there).
   */
  readonly transparentHugepages?: "always" | "madvise" | "never" | "unset";
  /**
   * Run the privileged init container that writes transparentHugepages on the node (mounts the host's /sys). A Neuron may turn it off; it is on only where its Hal9Cluster's is on too (privileged tuning is the Hal9Cluster's to allow): true here over a Hal9Cluster's false is rendered as false, with a warning. Default: the Hal9Cluster's (false unless set there).
   */
  readonly thpInitContainer?: boolean;
  /**
   * Pre-allocated hugepages for the runtime container (requests = limits), mounted as an emptyDir of medium HugePages at /hugepages. Nodes must pre-allocate them; a memory request is required. The Hal9 runtime (Node.js, V8) never maps /hugepages, so with its image they are reserved on the node and unused: only a custom image whose process maps files in /hugepages benefits.
   */
  readonly hugepages?: NeuronSpecNodeTuningHugepages;
  /**
   * Give the runtime exclusive cores: Guaranteed QoS (requests = limits) with integer CPUs, for nodes whose kubelet runs the static CPU manager. Replaces the guide's taskset. Default: the Hal9Cluster's (false unless set there).
   */
  readonly cpuPinning?: boolean;
  /**
   * Image of the privileged init containers; it needs `sh` and `sysctl` (busybox has both). Set on the Hal9Cluster only: the privileged init containers run it as root on the node, so a Neuron may not choose it (refused here; a value stored before that rule is kept while unchanged, and ignored by the operator, with a warning). Default: the Hal9Cluster's (busybox:1.37 unless set there).
   */
  readonly initImage?: string;
}

export interface NeuronSpecNodeTuningSysctlsItem {
  /**
   * Sysctl name with dots, for example net.ipv4.tcp_keepalive_time.
   */
  readonly name: string;
  /**
   * Value, for example "600" or "1024 65000".
   */
  readonly value: string;
}

/**
 * Pre-allocated hugepages for the runtime container (requests = limits), mounted as an emptyDir of medium HugePages at /hugepages. Nodes must pre-allocate them; a memory request is required. The Hal9 runtime (Node.js, V8) never maps /hugepages, so with its image they are reserved on the node and unused: only a custom image whose process maps files in /hugepages benefits.
 */
export interface NeuronSpecNodeTuningHugepages {
  /**
   * Page size: 2Mi or 1Gi. Default: the Hal9Cluster's (2Mi unless set there).
   */
  readonly size?: "2Mi" | "1Gi";
  /**
   * Total hugepage memory, a Kubernetes quantity such as "512Mi" or "1Gi" (or a whole number of bytes).
   */
  readonly quantity: number | string;
}

/**
 * Overrides of the cluster's autoscaling, field by field.
 */
export interface NeuronSpecAutoscaling {
  /**
   * Who decides the replica count when enabled is true. `operator`: the operator itself, from the concurrency the pods report (signals in flight plus queued, divided by the per-pod target), written through the Neuron's scale subresource, with graph-aware pre-scaling of downstream Neurons; no HPA is created. `hpa`: a HorizontalPodAutoscaler on CPU utilization (a percentage of the CPU request, which resources must set), which then owns the replica count (a neuron pod mostly waits on Claude, so CPU says little about its load). Default: the Hal9Cluster's (operator unless set there).
   */
  readonly mode?: "operator" | "hpa";
  /**
   * Operator mode: signals in flight plus queued that one pod should hold. The per-pod target is the lower of this and targetUtilizationPercentage of what one pod runs at once: its executor limit, or the model calls a pod runs at once (performance.maxConcurrentNeurons and, in api mode, performance.connectionPool.maxConnectionsPerHost) when fewer, since signals past those wait as queued ones do; desired replicas = observed concurrency ÷ per-pod target. Default: the Hal9Cluster's (32 unless set there).
   */
  readonly targetConcurrencyPerPod?: number;
  /**
   * Operator mode: share of what a pod runs at once (its executor limit, held to the model calls a pod runs at once) the replica count aims to keep busy; the rest is headroom for bursts. Default: the Hal9Cluster's (70 unless set there).
   */
  readonly targetUtilizationPercentage?: number;
  /**
   * Operator mode: window of the averages replicas and parallelism are decided from (Knative's stable window). Longer is steadier, shorter reacts faster. With metricsSource prometheus, parallelism is decided over the Prometheus query window instead (four scrape intervals, or the operator's --tuning-window): it is then the panic window, and it or 30 s, whichever is longer, the stable window; replicas then use that query window as both their windows, and this field only sets how long a burst's replicas are held. Default: the Hal9Cluster's (60 unless set there).
   */
  readonly stableWindowSeconds?: number;
  /**
   * Operator mode: short window that detects bursts (Knative's panic window). When the concurrency over it asks for at least panicThresholdPercentage of the Ready pods, replicas go up at once and do not go down until the bursts end; parallelism cuts and raises also read it. Default: the Hal9Cluster's (6 unless set there).
   */
  readonly panicWindowSeconds?: number;
  /**
   * Operator mode: the panic window's desired replicas, as a percentage of the ready replicas, that starts panic mode. Default: the Hal9Cluster's (200 unless set there).
   */
  readonly panicThresholdPercentage?: number;
  /**
   * Operator mode: replicas only go down to the highest count wanted over this many seconds (stabilisation on top of the stable window's average, for load that flaps). 0: the stable window's average alone delays scale-down. Default: the Hal9Cluster's (0 unless set there).
   */
  readonly scaleDownDelaySeconds?: number;
  /**
   * Where the operator reads load: `pods` (each Ready pod's GET /v1/admin/load every few seconds, Knative-style; needed for the panic window and graph-aware pre-scaling) or `prometheus` (queries over parallelism.prometheusURL or the operator's --prometheus-url). Default: the Hal9Cluster's (pods unless set there).
   */
  readonly metricsSource?: "pods" | "prometheus";
  /**
   * Scale the replica count automatically, as mode says (the operator from the pods' load, or a CPU HorizontalPodAutoscaler). Off: spec.replicas of the Neuron is the count, and only its owner (you, kubectl scale) changes it. Default: the Hal9Cluster's (false unless set there).
   */
  readonly enabled?: boolean;
  /**
   * Lowest replica count (both modes). Default: the Hal9Cluster's (1 unless set there).
   */
  readonly minReplicas?: number;
  /**
   * Highest replica count (both modes). Default: the Hal9Cluster's (10 unless set there).
   */
  readonly maxReplicas?: number;
  /**
   * hpa mode: average CPU utilization the HPA aims for, a percentage of the CPU request, up to 1000: above 100 where the CPU limit is above the request (150 keeps pods at 1.5 times their request). Default: the Hal9Cluster's (70 unless set there).
   */
  readonly targetCPUUtilizationPercentage?: number;
  /**
   * hpa mode: scaling behavior of the HPA; unset fields keep the HPA defaults.
   */
  readonly behavior?: NeuronSpecAutoscalingBehavior;
  /**
   * Tuning of the runtime's executor limit (maxConcurrentSignals) from the observed load (autoscaling.metricsSource), applied to running pods without restarting them.
   */
  readonly parallelism?: NeuronSpecAutoscalingParallelism;
}

/**
 * hpa mode: scaling behavior of the HPA; unset fields keep the HPA defaults.
 */
export interface NeuronSpecAutoscalingBehavior {
  /**
   * HPA behavior when scaling up.
   */
  readonly scaleUp?: NeuronSpecAutoscalingBehaviorScaleUp;
  /**
   * HPA behavior when scaling down.
   */
  readonly scaleDown?: NeuronSpecAutoscalingBehaviorScaleDown;
}

/**
 * HPA behavior when scaling up.
 */
export interface NeuronSpecAutoscalingBehaviorScaleUp {
  /**
   * Seconds of past recommendations considered, to avoid flapping.
   */
  readonly stabilizationWindowSeconds?: number;
  /**
   * Which policy wins: Max, Min, or Disabled (no scaling in this direction).
   */
  readonly selectPolicy?: "Max" | "Min" | "Disabled";
  /**
   * Rate limits of scaling, at least one (an HPA refuses an empty list); leave policies out for the Kubernetes defaults.
   */
  readonly policies?: readonly NeuronSpecAutoscalingBehaviorScaleUpPoliciesItem[];
}

export interface NeuronSpecAutoscalingBehaviorScaleUpPoliciesItem {
  /**
   * Pods (absolute) or Percent (of current replicas).
   */
  readonly type: "Pods" | "Percent";
  /**
   * Pods or percent allowed per period.
   */
  readonly value: number;
  /**
   * Length of the period, 1 to 1800 seconds.
   */
  readonly periodSeconds: number;
}

/**
 * HPA behavior when scaling down.
 */
export interface NeuronSpecAutoscalingBehaviorScaleDown {
  /**
   * Seconds of past recommendations considered, to avoid flapping.
   */
  readonly stabilizationWindowSeconds?: number;
  /**
   * Which policy wins: Max, Min, or Disabled (no scaling in this direction).
   */
  readonly selectPolicy?: "Max" | "Min" | "Disabled";
  /**
   * Rate limits of scaling, at least one (an HPA refuses an empty list); leave policies out for the Kubernetes defaults.
   */
  readonly policies?: readonly NeuronSpecAutoscalingBehaviorScaleDownPoliciesItem[];
}

export interface NeuronSpecAutoscalingBehaviorScaleDownPoliciesItem {
  /**
   * Pods (absolute) or Percent (of current replicas).
   */
  readonly type: "Pods" | "Percent";
  /**
   * Pods or percent allowed per period.
   */
  readonly value: number;
  /**
   * Length of the period, 1 to 1800 seconds.
   */
  readonly periodSeconds: number;
}

/**
 * Tuning of the runtime's executor limit (maxConcurrentSignals) from the observed load (autoscaling.metricsSource), applied to running pods without restarting them.
 */
export interface NeuronSpecAutoscalingParallelism {
  /**
   * Let the operator tune maxConcurrentSignals between min and max. Default: the Hal9Cluster's (false unless set there).
   */
  readonly enabled?: boolean;
  /**
   * Lowest executor limit the tuner may set. Default: the Hal9Cluster's (1 unless set there).
   */
  readonly min?: number;
  /**
   * Highest executor limit the tuner may set. It sets none above the model calls a pod runs at once (performance.maxConcurrentNeurons and, in api mode, performance.connectionPool.maxConnectionsPerHost) either, since a signal in a slot past them only waits for a call; parallelism.min wins over both. Default: the Hal9Cluster's (64 unless set there).
   */
  readonly max?: number;
  /**
   * Latency objective: p95 of the caller-visible latency (arrival at the pod to the answer, queue wait included), in milliseconds, that the tuner keeps. Default: the Hal9Cluster's (50 unless set there).
   */
  readonly latencySLOMs?: number;
  /**
   * With parallelism enabled, the runtime also holds each signal to latencySLOMs: one still waiting for a slot when it passes is refused (503 QUEUE_TIMEOUT, retry-after) instead of started late, and no 429/529 retry starts after it, so slots and upstream admissions go to signals that can still meet it. false: late signals are answered late. Default: the Hal9Cluster's (true unless set there).
   */
  readonly shedLateSignals?: boolean;
  /**
   * Base URL of the Prometheus API the operator queries when autoscaling.metricsSource is prometheus, for example http://prometheus.monitoring.svc:9090.
   */
  readonly prometheusURL?: string;
}

/**
 * Overrides of the cluster's claude section, field by field; mockResponses and prices merge per layer and per model (a model's price given here replaces the cluster's price of that model), and an apiKeySecretRef given here replaces the cluster's. A Neuron that sets baseURL names its own apiKeySecretRef: the Hal9Cluster's API key goes only to the Hal9Cluster's URL.
 */
export interface NeuronSpecClaude {
  /**
   * Back-end: `mock` (deterministic, default) or `api` (Anthropic Messages API; needs apiKeySecretRef). Default: the Hal9Cluster's (mock unless set there).
   */
  readonly mode?: "mock" | "api";
  /**
   * Claude model id used in `api` mode. Default: the Hal9Cluster's (claude-sonnet-5-5 unless set there).
   */
  readonly model?: string;
  /**
   * Maximum tokens of one model answer (`max_tokens`). Default: the Hal9Cluster's (1024 unless set there).
   */
  readonly maxTokens?: number;
  /**
   * Timeout of one model call in milliseconds. Default: the Hal9Cluster's (30000 unless set there).
   */
  readonly timeoutMs?: number;
  /**
   * SDK retries per model call (0 or 1); the circuit breaker owns failure policy, so retries are not stacked. Default: the Hal9Cluster's (0 unless set there).
   */
  readonly maxRetries?: number;
  /**
   * Base URL of the Messages API, for a proxy or a local fake; empty means the SDK default. Set here, it needs this Neuron's own claude.apiKeySecretRef: the Hal9Cluster's key is never sent to a URL a Neuron chooses.
   */
  readonly baseURL?: string;
  /**
   * Models tried in order when claude.model answers 529 (overloaded) or its circuit breaker is open (the runtime's neurons[].fallback_models); each once, and not claude.model itself.
   */
  readonly fallbackModels?: readonly string[];
  /**
   * Retries of model calls that answered 429 or 529, with exponential backoff and equal jitter (a wait between half and all of the backoff), never sooner than retry-after and only while the wait fits before the request's deadline.
   */
  readonly retry?: NeuronSpecClaudeRetry;
  /**
   * Prices per model in USD per million tokens, for the cost metrics and requestBudget.maxCostUSD; a model without a price has no cost. cacheRead and cacheWrite default to 0.1 and 1.25 times input (Anthropic's list prices). A model priced here takes this price whole, not the cluster's cache prices for it; other models keep the cluster's prices.
   */
  readonly prices?: { readonly [key: string]: NeuronSpecClaudePricesValue };
  /**
   * Secret (in the Neuron's namespace) holding the Anthropic API key; mounted into the runtime pods as a file (/var/run/hal9/anthropic/key, HAL9_API_KEY_FILE) that the runtime re-reads every 2 s, so a rotated key is used by running pods within about a minute, without a restart. Required in `api` mode, here or on the Hal9Cluster, and here when this Neuron sets claude.baseURL (the Hal9Cluster's key goes only to the Hal9Cluster's URL). Given here, it replaces the cluster's whole: its key is api-key unless set here, whatever key the cluster's names.
   */
  readonly apiKeySecretRef?: NeuronSpecClaudeApiKeySecretRef;
  /**
   * Mock answers of this Neuron's layer, the key spec.layer (the runtime uses no other layer's), replacing the Hal9Cluster's for that layer. For a signal, the first entry whose trigger is a substring of the content wins, in list order; the trigger `default` matches only when nothing else does. Without entries here or on the Hal9Cluster the runtime's built-in answers are used. The triggers and responses add up to at most 96000 characters: the runtime configuration (a ConfigMap, at most 1 MiB) holds them with the system prompt.
   */
  readonly mockResponses?: { readonly [key: string]: readonly NeuronSpecClaudeMockResponsesValueItem[] };
}

/**
 * Retries of model calls that answered 429 or 529, with exponential backoff and equal jitter (a wait between half and all of the backoff), never sooner than retry-after and only while the wait fits before the request's deadline.
 */
export interface NeuronSpecClaudeRetry {
  /**
   * Retries per model call; 0 turns them off. Default: the Hal9Cluster's (2 unless set there).
   */
  readonly maxRetries?: number;
  /**
   * Backoff before the first retry, in milliseconds (doubled per retry). Default: the Hal9Cluster's (250 unless set there).
   */
  readonly baseDelayMs?: number;
  /**
   * Longest backoff, in milliseconds. Default: the Hal9Cluster's (8000 unless set there).
   */
  readonly maxDelayMs?: number;
}

export interface NeuronSpecClaudePricesValue {
  /**
   * USD per million input tokens.
   */
  readonly input: number;
  /**
   * USD per million output tokens.
   */
  readonly output: number;
  /**
   * USD per million tokens read from the prompt cache.
   */
  readonly cacheRead?: number;
  /**
   * USD per million tokens written to the prompt cache.
   */
  readonly cacheWrite?: number;
}

/**
 * Secret (in the Neuron's namespace) holding the Anthropic API key; mounted into the runtime pods as a file (/var/run/hal9/anthropic/key, HAL9_API_KEY_FILE) that the runtime re-reads every 2 s, so a rotated key is used by running pods within about a minute, without a restart. Required in `api` mode, here or on the Hal9Cluster, and here when this Neuron sets claude.baseURL (the Hal9Cluster's key goes only to the Hal9Cluster's URL). Given here, it replaces the cluster's whole: its key is api-key unless set here, whatever key the cluster's names.
 */
export interface NeuronSpecClaudeApiKeySecretRef {
  /**
   * Name of the Secret.
   */
  readonly name: string;
  /**
   * Key inside the Secret. Default: api-key.
   */
  readonly key?: string;
}

export interface NeuronSpecClaudeMockResponsesValueItem {
  /**
   * Substring of the signal content that selects this answer, or `default`.
   */
  readonly trigger: string;
  /**
   * Answer text; may use the routing directives FORWARD_TO:, CONTENT: and RESULT:.
   */
  readonly response: string;
  /**
   * Exact delay before answering, in milliseconds (0 for benchmarks). Default: 0.
   */
  readonly delayMs?: number;
}

/**
 * Overrides of the cluster's monitoring, field by field (serviceMonitorLabels are added to the cluster's; the neuron's win a clash).
 */
export interface NeuronSpecMonitoring {
  /**
   * Create a Prometheus Operator ServiceMonitor for this neuron (only when its API is installed); false turns the cluster's off for it. Default: the Hal9Cluster's (false unless set there).
   */
  readonly serviceMonitor?: boolean;
  /**
   * Scrape interval of the ServiceMonitor, and the base of the parallelism tuner's window (four intervals): 15s, 30s, 1m; from 1s to 1m (the shipped alerts read windows of 2m, which a longer interval leaves with fewer than two samples). Default: the Hal9Cluster's (15s unless set there).
   */
  readonly scrapeInterval?: string;
  /**
   * Labels added to this neuron's ServiceMonitor, on top of the cluster's. The operator's own labels win on a clash.
   */
  readonly serviceMonitorLabels?: { readonly [key: string]: string };
}

/**
 * Overrides of the cluster's tracing, field by field (resourceAttributes are added to the cluster's; the neuron's win a clash; each Secret reference replaces the cluster's whole; a Neuron that sets its own endpoint gets none of the cluster's Secret references, headersSecretRef, caSecretRef and clientCertSecretRef, which are for the cluster's collector: it names its own). With an endpoint it turns tracing on for this neuron alone when the Hal9Cluster has none.
 */
export interface NeuronSpecTracing {
  /**
   * Base URL of the OTLP/HTTP collector (the runtime posts to <endpoint>/v1/traces), for example http://otel-collector.observability:4318. The operator's NetworkPolicies restrict ingress only; a policy of yours that restricts the pods' egress must allow the collector's port.
   */
  readonly endpoint?: string;
  /**
   * Share of the requests traced whole, from 0 to 1 (OTEL_TRACES_SAMPLER_ARG of parentbased_traceidratio): 0.01 keeps 1 %; a request whose caller sampled it is always traced. Default: the Hal9Cluster's (1 unless set there).
   */
  readonly samplingRatio?: number;
  /**
   * How each export's body is sent to the collector (OTEL_EXPORTER_OTLP_COMPRESSION): gzip shrinks it several times, as Grafana Cloud, Tempo and most vendors recommend, for some CPU per export; none sends it as is. Changing it rolls the pods. Default: the Hal9Cluster's (unset there: the runtime's none).
   */
  readonly compression?: "gzip" | "none";
  /**
   * How long one export to the collector may take, its retries included, as a duration in h, m, s and ms (OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds): 5s, 500ms; more than 0 and at most 30s, the batch span processor's own limit. An export that runs out is given up and its spans counted failed. Changing it rolls the pods. Default: the Hal9Cluster's (unset there: the runtime's 10s).
   */
  readonly timeout?: string;
  /**
   * More attributes of every span's resource (OTEL_RESOURCE_ATTRIBUTES, values percent-encoded by the operator), for example deployment.environment.name: production or service.name. The operator's own attributes win on a clash.
   */
  readonly resourceAttributes?: { readonly [key: string]: string };
  /**
   * Secret (in the Neuron's namespace) whose key holds the headers sent with every export to the collector, for its authentication: name=value pairs joined by commas, values percent-encoded, for example Authorization=Bearer%20<token>, or x-honeycomb-team=<key>, or X-Scope-OrgID=<tenant>,Authorization=Basic%20<base64>. Mounted read-only into the runtime pods at /var/run/hal9/otlp-headers/headers, named by HAL9_OTLP_HEADERS_FILE, so the token is never in the CR or the Deployment. Re-read every 2 s: a rotated token (the kubelet updates the mounted file within about a minute) goes with the next exports, without restarting the pods; a rotated value that is malformed keeps the headers in use, with a warning in the pod's log. A malformed value at a pod's start (a pair without = or without a value, a line break, more than 32 headers or 8192 characters) stops the runtime with a message naming HAL9_OTLP_HEADERS_FILE; a missing Secret or key keeps new pods in ContainerCreating (a FailedMount event). Given here, it replaces the cluster's whole: its key is headers unless set here, whatever key the cluster's names. Not taken from the cluster when this Neuron sets its own tracing.endpoint (the cluster's credentials go only to the cluster's collector): name it here.
   */
  readonly headersSecretRef?: NeuronSpecTracingHeadersSecretRef;
  /**
   * Secret (in the Neuron's namespace) whose key holds the PEM CA certificates that sign the collector's TLS certificate (a private CA): they replace the system's trusted CAs for the export. Mounted read-only into the runtime pods at /var/run/hal9/otlp-ca/ca.crt, named by OTEL_EXPORTER_OTLP_CERTIFICATE. A cert-manager Certificate's Secret holds its issuer's CA as ca.crt (the default key); trust-manager writes a Bundle to a Secret with target.secret. Needs an https:// endpoint. Re-read every 2 s: a renewed certificate (a cert-manager renewal) is used for the next connections to the collector, without restarting the pods. Given here, it replaces the cluster's whole: its key is ca.crt unless set here, whatever key the cluster's names. Not taken from the cluster when this Neuron sets its own tracing.endpoint: name it here.
   */
  readonly caSecretRef?: NeuronSpecTracingCaSecretRef;
  /**
   * Secret of type kubernetes.io/tls (tls.crt: the certificate chain, tls.key: its private key, as cert-manager writes them; in the Neuron's namespace) that the runtime presents to a collector that requires client certificates (mutual TLS). Mounted read-only at /var/run/hal9/otlp-client, named by OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY. Needs an https:// endpoint. Re-read every 2 s: a renewed certificate (a cert-manager renewal) is used for the next connections to the collector, without restarting the pods. Not taken from the cluster when this Neuron sets its own tracing.endpoint: name it here.
   */
  readonly clientCertSecretRef?: NeuronSpecTracingClientCertSecretRef;
}

/**
 * Secret (in the Neuron's namespace) whose key holds the headers sent with every export to the collector, for its authentication: name=value pairs joined by commas, values percent-encoded, for example Authorization=Bearer%20<token>, or x-honeycomb-team=<key>, or X-Scope-OrgID=<tenant>,Authorization=Basic%20<base64>. Mounted read-only into the runtime pods at /var/run/hal9/otlp-headers/headers, named by HAL9_OTLP_HEADERS_FILE, so the token is never in the CR or the Deployment. Re-read every 2 s: a rotated token (the kubelet updates the mounted file within about a minute) goes with the next exports, without restarting the pods; a rotated value that is malformed keeps the headers in use, with a warning in the pod's log. A malformed value at a pod's start (a pair without = or without a value, a line break, more than 32 headers or 8192 characters) stops the runtime with a message naming HAL9_OTLP_HEADERS_FILE; a missing Secret or key keeps new pods in ContainerCreating (a FailedMount event). Given here, it replaces the cluster's whole: its key is headers unless set here, whatever key the cluster's names. Not taken from the cluster when this Neuron sets its own tracing.endpoint (the cluster's credentials go only to the cluster's collector): name it here.
 */
export interface NeuronSpecTracingHeadersSecretRef {
  /**
   * Name of the Secret.
   */
  readonly name: string;
  /**
   * Key inside the Secret. Default: headers.
   */
  readonly key?: string;
}

/**
 * Secret (in the Neuron's namespace) whose key holds the PEM CA certificates that sign the collector's TLS certificate (a private CA): they replace the system's trusted CAs for the export. Mounted read-only into the runtime pods at /var/run/hal9/otlp-ca/ca.crt, named by OTEL_EXPORTER_OTLP_CERTIFICATE. A cert-manager Certificate's Secret holds its issuer's CA as ca.crt (the default key); trust-manager writes a Bundle to a Secret with target.secret. Needs an https:// endpoint. Re-read every 2 s: a renewed certificate (a cert-manager renewal) is used for the next connections to the collector, without restarting the pods. Given here, it replaces the cluster's whole: its key is ca.crt unless set here, whatever key the cluster's names. Not taken from the cluster when this Neuron sets its own tracing.endpoint: name it here.
 */
export interface NeuronSpecTracingCaSecretRef {
  /**
   * Name of the Secret.
   */
  readonly name: string;
  /**
   * Key inside the Secret. Default: ca.crt.
   */
  readonly key?: string;
}

/**
 * Secret of type kubernetes.io/tls (tls.crt: the certificate chain, tls.key: its private key, as cert-manager writes them; in the Neuron's namespace) that the runtime presents to a collector that requires client certificates (mutual TLS). Mounted read-only at /var/run/hal9/otlp-client, named by OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY. Needs an https:// endpoint. Re-read every 2 s: a renewed certificate (a cert-manager renewal) is used for the next connections to the collector, without restarting the pods. Not taken from the cluster when this Neuron sets its own tracing.endpoint: name it here.
 */
export interface NeuronSpecTracingClientCertSecretRef {
  /**
   * Name of the Secret.
   */
  readonly name: string;
}

/**
 * Observed state, written by the operator.
 */
export interface NeuronStatus {
  /**
   * Conditions, each with a reason and the generation it describes. The reconciler writes Ready (the pods serve), Progressing (a rollout is under way), Degraded (something needs you: ApplyFailed, RenderFailed, ReplicaFailure, ProgressDeadlineExceeded, ClusterNotFound, PrivilegedNotAllowed), Paused (the hal9.ai/paused annotation) and Warning (something you should know: privileged init containers, values the merge with the Hal9Cluster repaired, a connection to a Neuron that does not exist, kubectl scale without effect, a ServiceMonitor without its API), and for kstatus (Flux, kpt) Reconciling (Progressing=True while not Degraded) and Stalled (Degraded=True). With autoscaling on, the tuner writes ParallelismTuned (MetricsAvailable, MetricsUnavailable, NoData, DeliveryFailed) and, in operator mode, ReplicasAutoscaled (MetricsAvailable, PodsUnreachable, NoData, MetricsUnavailable).
   */
  readonly conditions?: readonly NeuronStatusConditionsItem[];
  /**
   * metadata.generation of the spec the status describes (the operator acted on it, successfully or not; the conditions say which). It stays behind while the Neuron is paused.
   */
  readonly observedGeneration?: number;
  /**
   * metadata.generation of the Hal9Cluster the children were last rendered from (kept while paused). The Hal9Cluster stays Progressing=True until each of its Neurons has caught up with its generation.
   */
  readonly clusterGeneration?: number;
  /**
   * Runtime pods of this neuron (from its Deployment).
   */
  readonly replicas?: number;
  /**
   * Ready runtime pods of this neuron.
   */
  readonly readyReplicas?: number;
  /**
   * Label selector of the neuron's pods, as a string (for the scale subresource).
   */
  readonly selector?: string;
  /**
   * Executor limit (maxConcurrentSignals) the pods run: the tuner's value while parallelism is tuned, else the spec's.
   */
  readonly parallelism?: NeuronStatusParallelism;
  /**
   * The operator's replica decisions (autoscaling.mode operator).
   */
  readonly autoscaling?: NeuronStatusAutoscaling;
}

export interface NeuronStatusConditionsItem {
  /**
   * Condition type in CamelCase (Ready, Progressing, Degraded, ...).
   */
  readonly type: string;
  /**
   * True, False or Unknown.
   */
  readonly status: "True" | "False" | "Unknown";
  /**
   * metadata.generation the condition was computed from.
   */
  readonly observedGeneration?: number;
  /**
   * When the status last changed.
   */
  readonly lastTransitionTime: string;
  /**
   * Machine-readable reason in CamelCase.
   */
  readonly reason: string;
  /**
   * Human-readable explanation.
   */
  readonly message: string;
}

/**
 * Executor limit (maxConcurrentSignals) the pods run: the tuner's value while parallelism is tuned, else the spec's.
 */
export interface NeuronStatusParallelism {
  /**
   * Executor limit in effect.
   */
  readonly current?: number;
  /**
   * The tuner's last decision.
   */
  readonly lastDecision?: NeuronStatusParallelismLastDecision;
  /**
   * A raised executor limit whose service time broke the latency SLO: raises stay below it for five stable windows from its time (so a steady load near it does not probe it again and again), also after an operator restart or a leader change.
   */
  readonly ceiling?: NeuronStatusParallelismCeiling;
}

/**
 * The tuner's last decision.
 */
export interface NeuronStatusParallelismLastDecision {
  /**
   * Executor limit decided.
   */
  readonly value?: number;
  /**
   * Executor limit before this decision: a LatencyAboveSLO cut right after a raise goes back to it, also after an operator restart or a leader change.
   */
  readonly previous?: number;
  /**
   * Why, in CamelCase: NoData (no metrics in the window; the value holds), UpstreamThrottling, LatencyAboveSLO, QueueDrained, Saturated, PreScaled, WithinSLO, Cooldown, AtBound, OutOfBounds or Undelivered.
   */
  readonly reason?: string;
  /**
   * When the decision was made.
   */
  readonly time?: string;
  /**
   * The inputs the decision was made from (latency, utilization, queue, push-back, demand).
   */
  readonly message?: string;
}

/**
 * A raised executor limit whose service time broke the latency SLO: raises stay below it for five stable windows from its time (so a steady load near it does not probe it again and again), also after an operator restart or a leader change.
 */
export interface NeuronStatusParallelismCeiling {
  /**
   * The executor limit that broke the SLO.
   */
  readonly value?: number;
  /**
   * When it broke the SLO.
   */
  readonly time?: string;
}

/**
 * The operator's replica decisions (autoscaling.mode operator).
 */
export interface NeuronStatusAutoscaling {
  /**
   * Replica count the operator decided and wrote to spec.replicas.
   */
  readonly desiredReplicas?: number;
  /**
   * The last change of the replica count, and why.
   */
  readonly lastDecision?: NeuronStatusAutoscalingLastDecision;
  /**
   * Learned signals forwarded per signal completed here, per downstream Neuron (stable window), as decimal strings.
   */
  readonly fanOut?: { readonly [key: string]: string };
}

/**
 * The last change of the replica count, and why.
 */
export interface NeuronStatusAutoscalingLastDecision {
  /**
   * Replicas decided.
   */
  readonly value?: number;
  /**
   * Why, in CamelCase (Concurrency, Panic, PreScaled, ScaleDownStabilized, ManualScaleOverridden, OutOfBounds).
   */
  readonly reason?: string;
  /**
   * The inputs (observed and predicted concurrency, per-pod target, windows, upstream intake × fan-out).
   */
  readonly message?: string;
  /**
   * When the decision was made.
   */
  readonly time?: string;
  /**
   * Signals in flight plus queued (stable window average), as a decimal string.
   */
  readonly observedConcurrency?: string;
  /**
   * Concurrency predicted from upstream intake × edge fan-out × this Neuron's latency (Little's law), as a decimal string.
   */
  readonly predictedConcurrency?: string;
  /**
   * Concurrency one pod was sized to hold, as a decimal string.
   */
  readonly perPodTarget?: string;
  /**
   * Whether the panic window drove the decision.
   */
  readonly panic?: boolean;
}

/** The schema's defaults below spec, as the apiserver applies them. */
export const neuronSpecDefaults = {
  "properties": {
    "systemPrompt": {
      "default": ""
    },
    "forwardConnections": {
      "default": []
    },
    "backwardConnections": {
      "default": []
    },
    "replicas": {
      "default": 1
    }
  }
} as const;
