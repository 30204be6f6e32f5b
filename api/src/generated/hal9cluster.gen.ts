// Generated from the CRD by scripts/gen-types.ts (npm run gen:types). Do not edit.
import type { V1ObjectMeta } from '@kubernetes/client-node';

export const hal9ClusterGroup = "hal9.ai";
export const hal9ClusterVersion = "v1alpha1";
export const hal9ClusterApiVersion = "hal9.ai/v1alpha1";
export const hal9ClusterKind = "Hal9Cluster";
export const hal9ClusterPlural = "hal9clusters";

/**
 * Hal9Cluster holds the defaults of a group of Neurons: runtime image, Claude back-end, performance tuning, resources, placement, node tuning, autoscaling and monitoring. Each Neuron names its Hal9Cluster and may override any section.
 */
export interface Hal9Cluster {
  readonly apiVersion?: "hal9.ai/v1alpha1";
  readonly kind?: "Hal9Cluster";
  readonly metadata?: V1ObjectMeta;
  readonly spec: Hal9ClusterSpec;
  readonly status?: Hal9ClusterStatus;
}

/**
 * Defaults for every Neuron of this cluster. Each Neuron may override any section field by field.
 */
export interface Hal9ClusterSpec {
  /**
   * Secret (in the cluster's namespace) holding the bearer token that protects the runtime pods' admin API (PUT /v1/admin/performance), one token of at least 16 visible ASCII characters (a shorter one stops the runtime at start, and a rotation to one is not taken up). It is mounted into the runtime pods as a file (HAL9_AUTH_TOKEN_FILE), which the runtime re-reads, so a rotated Secret reaches running pods without a restart; the operator reads it to deliver tuned parallelism. Without it the operator makes a Secret <cluster>-admin-token with a token derived from its own key, which the pods mount, so the admin API is never open by default.
   */
  readonly adminTokenSecretRef?: Hal9ClusterSpecAdminTokenSecretRef;
  /**
   * Runtime container image. Default: hal9/runtime:0.1.0.
   * @default "hal9/runtime:0.1.0"
   */
  readonly image?: string;
  /**
   * Pull policy of the runtime image. Default: IfNotPresent.
   * @default "IfNotPresent"
   */
  readonly imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  /**
   * Secrets (kubernetes.io/dockerconfigjson, in the cluster's namespace) the runtime pods pull their images with (the runtime image and nodeTuning.initImage), as a pod's imagePullSecrets. Changing the list rolls the pods.
   */
  readonly imagePullSecrets?: readonly Hal9ClusterSpecImagePullSecretsItem[];
  /**
   * Neuron where external requests enter (its Service is reported as status.entryEndpoint); default: a neuron of the highest layer.
   */
  readonly entryNeuron?: string;
  /**
   * Claude back-end of the runtime: `mock` answers from configured responses (no network), `api` calls the Anthropic Messages API.
   * @default {}
   */
  readonly claude?: Hal9ClusterSpecClaude;
  /**
   * Tuning of the runtime (the `performance:` section of its configuration, in camelCase). Defaults are those of the Performance Tuning Guide.
   * @default {}
   */
  readonly performance?: Hal9ClusterSpecPerformance;
  /**
   * CPU and memory of the runtime container. A section that is present is taken as written (only limits: the requests equal them, Guaranteed QoS). Default (when the whole section is absent): requests 2000m CPU / 2Gi, limits 4000m CPU / 4Gi, as in the Performance Tuning Guide; the operator applies it and it is not stored, so adding the section later replaces it whole.
   */
  readonly resources?: Hal9ClusterSpecResources;
  /**
   * Where the runtime pods are scheduled.
   */
  readonly placement?: Hal9ClusterSpecPlacement;
  /**
   * Node-level tuning of the runtime pods. Options that need privileged init containers are off unless asked for, and the Neuron then carries a warning condition. Privileged tuning is the Hal9Cluster's to allow (and the operator's --allow-privileged-namespaces, a cluster admin's): its Neurons may turn privilegedSysctlInitContainer and thpInitContainer off, never on, and may not set initImage.
   * @default {}
   */
  readonly nodeTuning?: Hal9ClusterSpecNodeTuning;
  /**
   * Horizontal pod autoscaling of each neuron, and tuning of its parallelism from observed metrics.
   * @default {}
   */
  readonly autoscaling?: Hal9ClusterSpecAutoscaling;
  /**
   * Metrics scraping of the runtime pods. The pods always carry prometheus.io annotations; their Services carry none, so a pod is scraped once whichever stock job finds it.
   * @default {}
   */
  readonly monitoring?: Hal9ClusterSpecMonitoring;
  /**
   * OpenTelemetry traces of the runtime pods, exported over OTLP/HTTP. Absent: the pods export no spans. The operator sets the runtime container's OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG and OTEL_RESOURCE_ATTRIBUTES (k8s.namespace.name, k8s.pod.name, k8s.deployment.name, service.namespace: the Hal9Cluster, hal9.neuron, then resourceAttributes), and with the Secret references HAL9_OTLP_HEADERS_FILE, OTEL_EXPORTER_OTLP_CERTIFICATE and the client certificate's pair (files mounted from the Secrets); changing it rolls the pods.
   */
  readonly tracing?: Hal9ClusterSpecTracing;
}

/**
 * Secret (in the cluster's namespace) holding the bearer token that protects the runtime pods' admin API (PUT /v1/admin/performance), one token of at least 16 visible ASCII characters (a shorter one stops the runtime at start, and a rotation to one is not taken up). It is mounted into the runtime pods as a file (HAL9_AUTH_TOKEN_FILE), which the runtime re-reads, so a rotated Secret reaches running pods without a restart; the operator reads it to deliver tuned parallelism. Without it the operator makes a Secret <cluster>-admin-token with a token derived from its own key, which the pods mount, so the admin API is never open by default.
 */
export interface Hal9ClusterSpecAdminTokenSecretRef {
  /**
   * Name of the Secret.
   */
  readonly name: string;
  /**
   * Key inside the Secret. Default: token.
   * @default "token"
   */
  readonly key?: string;
}

export interface Hal9ClusterSpecImagePullSecretsItem {
  /**
   * Name of the Secret.
   */
  readonly name: string;
}

/**
 * Claude back-end of the runtime: `mock` answers from configured responses (no network), `api` calls the Anthropic Messages API.
 * @default {}
 */
export interface Hal9ClusterSpecClaude {
  /**
   * Back-end: `mock` (deterministic, default) or `api` (Anthropic Messages API; needs apiKeySecretRef). Default: mock.
   * @default "mock"
   */
  readonly mode?: "mock" | "api";
  /**
   * Claude model id used in `api` mode. Default: claude-sonnet-5-5.
   * @default "claude-sonnet-5-5"
   */
  readonly model?: string;
  /**
   * Maximum tokens of one model answer (`max_tokens`). Default: 1024.
   * @default 1024
   */
  readonly maxTokens?: number;
  /**
   * Timeout of one model call in milliseconds. Default: 30000.
   * @default 30000
   */
  readonly timeoutMs?: number;
  /**
   * SDK retries per model call (0 or 1); the circuit breaker owns failure policy, so retries are not stacked. Default: 0.
   * @default 0
   */
  readonly maxRetries?: number;
  /**
   * Base URL of the Messages API, for a proxy or a local fake; empty means the SDK default. The Hal9Cluster's apiKeySecretRef goes only to this URL: a Neuron that sets its own baseURL must name its own apiKeySecretRef.
   */
  readonly baseURL?: string;
  /**
   * Models tried in order when claude.model answers 529 (overloaded) or its circuit breaker is open (the runtime's neurons[].fallback_models); each once, and not claude.model itself.
   */
  readonly fallbackModels?: readonly string[];
  /**
   * Retries of model calls that answered 429 or 529, with exponential backoff and equal jitter (a wait between half and all of the backoff), never sooner than retry-after and only while the wait fits before the request's deadline.
   * @default {}
   */
  readonly retry?: Hal9ClusterSpecClaudeRetry;
  /**
   * Prices per model in USD per million tokens, for the cost metrics and requestBudget.maxCostUSD; a model without a price has no cost. cacheRead and cacheWrite default to 0.1 and 1.25 times input (Anthropic's list prices).
   */
  readonly prices?: { readonly [key: string]: Hal9ClusterSpecClaudePricesValue };
  /**
   * Secret (in the Neuron's namespace) holding the Anthropic API key; mounted into the runtime pods as a file (/var/run/hal9/anthropic/key, HAL9_API_KEY_FILE) that the runtime re-reads every 2 s, so a rotated key is used by running pods within about a minute, without a restart. Required when mode is `api`. A Neuron that sets its own claude.baseURL does not get it: the key goes only to this Hal9Cluster's baseURL.
   */
  readonly apiKeySecretRef?: Hal9ClusterSpecClaudeApiKeySecretRef;
  /**
   * Mock answers per layer (keys L1 to L9). For a signal, the first entry whose trigger is a substring of the content wins, in list order; the trigger `default` matches only when nothing else does. Layers without entries use the runtime's built-in answers. A layer's triggers and responses add up to at most 96000 characters: each Neuron's runtime configuration (a ConfigMap, at most 1 MiB) holds its layer's with its system prompt.
   */
  readonly mockResponses?: { readonly [key: string]: readonly Hal9ClusterSpecClaudeMockResponsesValueItem[] };
}

/**
 * Retries of model calls that answered 429 or 529, with exponential backoff and equal jitter (a wait between half and all of the backoff), never sooner than retry-after and only while the wait fits before the request's deadline.
 * @default {}
 */
export interface Hal9ClusterSpecClaudeRetry {
  /**
   * Retries per model call; 0 turns them off. Default: 2.
   * @default 2
   */
  readonly maxRetries?: number;
  /**
   * Backoff before the first retry, in milliseconds (doubled per retry). Default: 250.
   * @default 250
   */
  readonly baseDelayMs?: number;
  /**
   * Longest backoff, in milliseconds. Default: 8000.
   * @default 8000
   */
  readonly maxDelayMs?: number;
}

export interface Hal9ClusterSpecClaudePricesValue {
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
 * Secret (in the Neuron's namespace) holding the Anthropic API key; mounted into the runtime pods as a file (/var/run/hal9/anthropic/key, HAL9_API_KEY_FILE) that the runtime re-reads every 2 s, so a rotated key is used by running pods within about a minute, without a restart. Required when mode is `api`. A Neuron that sets its own claude.baseURL does not get it: the key goes only to this Hal9Cluster's baseURL.
 */
export interface Hal9ClusterSpecClaudeApiKeySecretRef {
  /**
   * Name of the Secret.
   */
  readonly name: string;
  /**
   * Key inside the Secret. Default: api-key.
   * @default "api-key"
   */
  readonly key?: string;
}

export interface Hal9ClusterSpecClaudeMockResponsesValueItem {
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
   * @default 0
   */
  readonly delayMs?: number;
}

/**
 * Tuning of the runtime (the `performance:` section of its configuration, in camelCase). Defaults are those of the Performance Tuning Guide.
 * @default {}
 */
export interface Hal9ClusterSpecPerformance {
  /**
   * Signals per batch: a batch buffer flushes when it holds this many signals. Default: 10.
   * @default 10
   */
  readonly signalBufferSize?: number;
  /**
   * Longest time a signal waits in a batch buffer, in milliseconds (an idle executor flushes at once). Default: 50.
   * @default 50
   */
  readonly bufferFlushMs?: number;
  /**
   * Time to live of cached answers, in seconds. Default: 300.
   * @default 300
   */
  readonly cacheTtlSeconds?: number;
  /**
   * Maximum number of cached answers per process. Default: 1000.
   * @default 1000
   */
  readonly cacheMaxEntries?: number;
  /**
   * Layers whose neurons cache answers (a Neuron's spec.cache.enabled overrides this for that neuron). Default: L2.
   * @default ["L2"]
   */
  readonly cacheLayers?: readonly ("L1" | "L2" | "L3" | "L4" | "L5" | "L6" | "L7" | "L8" | "L9")[];
  /**
   * Executor limit: signals processed concurrently per pod. The operator changes it at run time when autoscaling.parallelism is enabled. Default: 8.
   * @default 8
   */
  readonly maxConcurrentSignals?: number;
  /**
   * Bound on the signals a pod holds waiting (its buffers, its executor queue, and those sent or waiting to go to a peer pod); new requests and peers' batches that would pass it get 429 with Retry-After; the signals an admitted request fans out into are always taken. Default: 1000.
   * @default 1000
   */
  readonly maxQueueDepth?: number;
  /**
   * Concurrent model calls per pod; in api mode they are also held to connectionPool.maxConnectionsPerHost. A signal holding an executor slot past them waits for a call, so the parallelism tuner stops there (unless parallelism.min is higher) and the operator's replica autoscaler sizes pods by them. Default: 10.
   * @default 10
   */
  readonly maxConcurrentNeurons?: number;
  /**
   * The most neurons one path of a request visits, the entry neuron included (16 allows 15 forwards): forwarding past it ends that branch with HOP_LIMIT_EXCEEDED. Default: 16.
   * @default 16
   */
  readonly hopLimit?: number;
  /**
   * Deadline of one request, in milliseconds. The pod's termination grace period is derived from it so draining can finish. Default: 30000.
   * @default 30000
   */
  readonly requestTimeoutMs?: number;
  /**
   * Circuit breaker per upstream.
   * @default {}
   */
  readonly circuitBreaker?: Hal9ClusterSpecPerformanceCircuitBreaker;
  /**
   * Pooled HTTP connections to the Claude API and to other runtime pods.
   * @default {}
   */
  readonly connectionPool?: Hal9ClusterSpecPerformanceConnectionPool;
  /**
   * What one request may consume on one runtime pod (the runtime's performance.request_budget). Exceeding a budget ends that branch of the request with a stable error code while the rest of the request goes on; a model's answer can be steered by the content a caller sends, and these budgets are what bound it.
   * @default {}
   */
  readonly requestBudget?: Hal9ClusterSpecPerformanceRequestBudget;
}

/**
 * Circuit breaker per upstream.
 * @default {}
 */
export interface Hal9ClusterSpecPerformanceCircuitBreaker {
  /**
   * Failures within windowSeconds that open the breaker. Default: 5.
   * @default 5
   */
  readonly failureThreshold?: number;
  /**
   * Successful trial calls that close a half-open breaker. Default: 3.
   * @default 3
   */
  readonly successThreshold?: number;
  /**
   * Seconds the breaker stays open before it lets trial calls through. Default: 30.
   * @default 30
   */
  readonly timeoutSeconds?: number;
  /**
   * Length of the failure-counting window, in seconds. Default: 60.
   * @default 60
   */
  readonly windowSeconds?: number;
}

/**
 * Pooled HTTP connections to the Claude API and to other runtime pods.
 * @default {}
 */
export interface Hal9ClusterSpecPerformanceConnectionPool {
  /**
   * Connections per upstream host. In api mode the model calls a pod runs at once are held to it as well as to maxConcurrentNeurons, and so are the parallelism tuner's limit and the replica autoscaler's per-pod target. Default: 10.
   * @default 10
   */
  readonly maxConnectionsPerHost?: number;
  /**
   * Seconds an idle pooled connection is kept. Default: 90.
   * @default 90
   */
  readonly idleTimeoutSeconds?: number;
}

/**
 * What one request may consume on one runtime pod (the runtime's performance.request_budget). Exceeding a budget ends that branch of the request with a stable error code while the rest of the request goes on; a model's answer can be steered by the content a caller sends, and these budgets are what bound it.
 * @default {}
 */
export interface Hal9ClusterSpecPerformanceRequestBudget {
  /**
   * Children one answer may forward (a target once per distinct content); further ones are dropped with an error. Default: 10.
   * @default 10
   */
  readonly maxFanout?: number;
  /**
   * Signals in one request's tree. On a pod a request was forwarded to, its signals are held to what it had left on the pod that forwarded it too, so along any path the request is held to its entry pod's budget. Default: 500.
   * @default 500
   */
  readonly maxSignals?: number;
  /**
   * Model calls of one request, each counted once with its retries (claude.retry.maxRetries, or the SDK's claude.maxRetries) and fallbacks; cache hits are free. On a pod a request was forwarded to, its calls are held to what it had left on the pod that forwarded it too, so along any path the request is held to its entry pod's budget. Default: 200.
   * @default 200
   */
  readonly maxModelCalls?: number;
  /**
   * Tokens of one request (input, output, cache reads and cache writes). On a pod a request was forwarded to, its calls are held to what it had left on the pod that forwarded it too. Default: 2000000.
   * @default 2000000
   */
  readonly maxTokens?: number;
  /**
   * Cost of one request in USD, counted for models that claude.prices lists; 0: no cost budget. On a pod a request was forwarded to, its calls are held to what it had left on the pod that forwarded it too, so along any path the request is held to its entry pod's budget. Default: 0.
   * @default 0
   */
  readonly maxCostUSD?: number;
}

/**
 * CPU and memory of the runtime container. A section that is present is taken as written (only limits: the requests equal them, Guaranteed QoS). Default (when the whole section is absent): requests 2000m CPU / 2Gi, limits 4000m CPU / 4Gi, as in the Performance Tuning Guide; the operator applies it and it is not stored, so adding the section later replaces it whole.
 */
export interface Hal9ClusterSpecResources {
  /**
   * Requested CPU and memory (what the scheduler reserves).
   */
  readonly requests?: Hal9ClusterSpecResourcesRequests;
  /**
   * CPU and memory limits. The Node.js heap is sized to 75% of the memory limit.
   */
  readonly limits?: Hal9ClusterSpecResourcesLimits;
}

/**
 * Requested CPU and memory (what the scheduler reserves).
 */
export interface Hal9ClusterSpecResourcesRequests {
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
export interface Hal9ClusterSpecResourcesLimits {
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
 * Where the runtime pods are scheduled.
 */
export interface Hal9ClusterSpecPlacement {
  /**
   * Node labels the pods require (exact match).
   */
  readonly nodeSelector?: { readonly [key: string]: string };
  /**
   * Required node affinity: every requirement must hold (the guide uses `node-type In [performance]`).
   */
  readonly requiredNodeLabels?: readonly Hal9ClusterSpecPlacementRequiredNodeLabelsItem[];
  /**
   * Preferred node affinity: each matching requirement adds its weight to a node's score.
   */
  readonly preferredNodeLabels?: readonly Hal9ClusterSpecPlacementPreferredNodeLabelsItem[];
  /**
   * Taints the pods tolerate, for example of dedicated performance nodes.
   */
  readonly tolerations?: readonly Hal9ClusterSpecPlacementTolerationsItem[];
  /**
   * Spread of the neuron's pods over a topology domain (hosts by default).
   */
  readonly topologySpread?: Hal9ClusterSpecPlacementTopologySpread;
}

export interface Hal9ClusterSpecPlacementRequiredNodeLabelsItem {
  /**
   * Node label key, for example `node-type`.
   */
  readonly key: string;
  /**
   * In (when unset), NotIn (both need values), Exists or DoesNotExist (take no values). Default: In.
   * @default "In"
   */
  readonly operator?: "In" | "NotIn" | "Exists" | "DoesNotExist";
  /**
   * Label values for In and NotIn.
   */
  readonly values?: readonly string[];
}

export interface Hal9ClusterSpecPlacementPreferredNodeLabelsItem {
  /**
   * Preference weight, 1 to 100. Default: 1.
   * @default 1
   */
  readonly weight?: number;
  /**
   * Node label key, for example `node-type`.
   */
  readonly key: string;
  /**
   * In (when unset), NotIn (both need values), Exists or DoesNotExist (take no values). Default: In.
   * @default "In"
   */
  readonly operator?: "In" | "NotIn" | "Exists" | "DoesNotExist";
  /**
   * Label values for In and NotIn.
   */
  readonly values?: readonly string[];
}

export interface Hal9ClusterSpecPlacementTolerationsItem {
  /**
   * Taint key; empty with operator Exists tolerates every taint.
   */
  readonly key?: string;
  /**
   * Equal (key and value match) or Exists (key matches). Default: Equal.
   * @default "Equal"
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
export interface Hal9ClusterSpecPlacementTopologySpread {
  /**
   * Largest allowed difference in pod count between two domains. Default: 1.
   * @default 1
   */
  readonly maxSkew?: number;
  /**
   * Node label that defines the domains. Default: kubernetes.io/hostname.
   * @default "kubernetes.io/hostname"
   */
  readonly topologyKey?: string;
  /**
   * DoNotSchedule (hard) or ScheduleAnyway (soft). Default: ScheduleAnyway.
   * @default "ScheduleAnyway"
   */
  readonly whenUnsatisfiable?: "DoNotSchedule" | "ScheduleAnyway";
}

/**
 * Node-level tuning of the runtime pods. Options that need privileged init containers are off unless asked for, and the Neuron then carries a warning condition. Privileged tuning is the Hal9Cluster's to allow (and the operator's --allow-privileged-namespaces, a cluster admin's): its Neurons may turn privilegedSysctlInitContainer and thpInitContainer off, never on, and may not set initImage.
 * @default {}
 */
export interface Hal9ClusterSpecNodeTuning {
  /**
   * Kernel parameters. The safe set (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.ip_local_reserved_ports, net.ipv4.ip_unprivileged_port_start, net.ipv4.ping_group_range, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_rmem, net.ipv4.tcp_syncookies, net.ipv4.tcp_wmem) goes into the pod's securityContext.sysctls, and a value the kernel would refuse there (out of its bounds, or a port range against net.ipv4.ip_unprivileged_port_start) is refused on apply, since the pod would never start (FailedCreatePodSandBox), and so is a net.ipv4.ip_unprivileged_port_start above 8080, the runtime's port, which the runtime (no root, no capabilities) could then not listen on; any other name needs privilegedSysctlInitContainer: true. Names are written with dots (net.ipv4.tcp_keepalive_time, not net/ipv4/tcp_keepalive_time). There is no tcp_nodelay sysctl: the runtime sets TCP_NODELAY on its sockets.
   */
  readonly sysctls?: readonly Hal9ClusterSpecNodeTuningSysctlsItem[];
  /**
   * Set sysctls outside the safe set with a privileged init container (`sysctl -w`), run in the pod's namespaces. A namespaced net.* sysctl (net.core.somaxconn, net.ipv4.tcp_slow_start_after_idle) applies to the pod's own network namespace; a global-only one such as net.core.netdev_max_backlog does not exist there, so the init container fails and the pod stays in Init:CrashLoopBackOff (set it on the node instead); kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* apply to the pod's IPC namespace; vm.*, fs.* and the other kernel.* ones are written for the whole node (every pod on it) and outlive the pod. Privileged containers are root on the node; prefer the safe set or node configuration owned by cluster admins. It allows the privileged init container for this cluster's Neurons too: a Neuron may turn it off, never on. Default: false.
   * @default false
   */
  readonly privilegedSysctlInitContainer?: boolean;
  /**
   * Sysctls outside the safe set that a Neuron of this cluster may write in its own nodeTuning.sysctls (the privileged init container writes them as root): exact names, or a prefix ending in `*` as the kubelet's --allowed-unsafe-sysctls takes them (net.core.*). The names in this cluster's own sysctls are allowed too (a Neuron may change their values). Any other name outside the safe set in a Neuron's list is not written, with a warning on the Neuron. Default: none.
   */
  readonly neuronSysctls?: readonly string[];
  /**
   * Transparent hugepages mode to write to /sys/kernel/mm/transparent_hugepage/enabled on the node (needs thpInitContainer: true). `unset` leaves the node alone. This is node-wide and outlives the pod. Default: unset.
   * @default "unset"
   */
  readonly transparentHugepages?: "always" | "madvise" | "never" | "unset";
  /**
   * Run the privileged init container that writes transparentHugepages on the node (mounts the host's /sys). It allows it for this cluster's Neurons too: a Neuron may turn it off, never on. Default: false.
   * @default false
   */
  readonly thpInitContainer?: boolean;
  /**
   * Pre-allocated hugepages for the runtime container (requests = limits), mounted as an emptyDir of medium HugePages at /hugepages. Nodes must pre-allocate them; a memory request is required. The Hal9 runtime (Node.js, V8) never maps /hugepages, so with its image they are reserved on the node and unused: only a custom image whose process maps files in /hugepages benefits.
   */
  readonly hugepages?: Hal9ClusterSpecNodeTuningHugepages;
  /**
   * Give the runtime exclusive cores: Guaranteed QoS (requests = limits) with integer CPUs, for nodes whose kubelet runs the static CPU manager. Replaces the guide's taskset. Default: false.
   * @default false
   */
  readonly cpuPinning?: boolean;
  /**
   * Image of the privileged init containers; it needs `sh` and `sysctl` (busybox has both). Used for every Neuron of the cluster: a Neuron may not set another. Default: busybox:1.37.
   * @default "busybox:1.37"
   */
  readonly initImage?: string;
}

export interface Hal9ClusterSpecNodeTuningSysctlsItem {
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
export interface Hal9ClusterSpecNodeTuningHugepages {
  /**
   * Page size: 2Mi or 1Gi. Default: 2Mi.
   * @default "2Mi"
   */
  readonly size?: "2Mi" | "1Gi";
  /**
   * Total hugepage memory, a Kubernetes quantity such as "512Mi" or "1Gi" (or a whole number of bytes).
   */
  readonly quantity: number | string;
}

/**
 * Horizontal pod autoscaling of each neuron, and tuning of its parallelism from observed metrics.
 * @default {}
 */
export interface Hal9ClusterSpecAutoscaling {
  /**
   * Who decides the replica count when enabled is true. `operator`: the operator itself, from the concurrency the pods report (signals in flight plus queued, divided by the per-pod target), written through the Neuron's scale subresource, with graph-aware pre-scaling of downstream Neurons; no HPA is created. `hpa`: a HorizontalPodAutoscaler on CPU utilization (a percentage of the CPU request, which resources must set), which then owns the replica count (a neuron pod mostly waits on Claude, so CPU says little about its load). Default: operator.
   * @default "operator"
   */
  readonly mode?: "operator" | "hpa";
  /**
   * Operator mode: signals in flight plus queued that one pod should hold. The per-pod target is the lower of this and targetUtilizationPercentage of what one pod runs at once: its executor limit, or the model calls a pod runs at once (performance.maxConcurrentNeurons and, in api mode, performance.connectionPool.maxConnectionsPerHost) when fewer, since signals past those wait as queued ones do; desired replicas = observed concurrency ÷ per-pod target. Default: 32.
   * @default 32
   */
  readonly targetConcurrencyPerPod?: number;
  /**
   * Operator mode: share of what a pod runs at once (its executor limit, held to the model calls a pod runs at once) the replica count aims to keep busy; the rest is headroom for bursts. Default: 70.
   * @default 70
   */
  readonly targetUtilizationPercentage?: number;
  /**
   * Operator mode: window of the averages replicas and parallelism are decided from (Knative's stable window). Longer is steadier, shorter reacts faster. With metricsSource prometheus, parallelism is decided over the Prometheus query window instead (four scrape intervals, or the operator's --tuning-window): it is then the panic window, and it or 30 s, whichever is longer, the stable window; replicas then use that query window as both their windows, and this field only sets how long a burst's replicas are held. Default: 60.
   * @default 60
   */
  readonly stableWindowSeconds?: number;
  /**
   * Operator mode: short window that detects bursts (Knative's panic window). When the concurrency over it asks for at least panicThresholdPercentage of the Ready pods, replicas go up at once and do not go down until the bursts end; parallelism cuts and raises also read it. Default: 6.
   * @default 6
   */
  readonly panicWindowSeconds?: number;
  /**
   * Operator mode: the panic window's desired replicas, as a percentage of the ready replicas, that starts panic mode. Default: 200.
   * @default 200
   */
  readonly panicThresholdPercentage?: number;
  /**
   * Operator mode: replicas only go down to the highest count wanted over this many seconds (stabilisation on top of the stable window's average, for load that flaps). 0: the stable window's average alone delays scale-down. Default: 0.
   * @default 0
   */
  readonly scaleDownDelaySeconds?: number;
  /**
   * Where the operator reads load: `pods` (each Ready pod's GET /v1/admin/load every few seconds, Knative-style; needed for the panic window and graph-aware pre-scaling) or `prometheus` (queries over parallelism.prometheusURL or the operator's --prometheus-url). Default: pods.
   * @default "pods"
   */
  readonly metricsSource?: "pods" | "prometheus";
  /**
   * Scale the replica count automatically, as mode says (the operator from the pods' load, or a CPU HorizontalPodAutoscaler). Off: spec.replicas of the Neuron is the count, and only its owner (you, kubectl scale) changes it. Default: false.
   * @default false
   */
  readonly enabled?: boolean;
  /**
   * Lowest replica count (both modes). Default: 1.
   * @default 1
   */
  readonly minReplicas?: number;
  /**
   * Highest replica count (both modes). Default: 10.
   * @default 10
   */
  readonly maxReplicas?: number;
  /**
   * hpa mode: average CPU utilization the HPA aims for, a percentage of the CPU request, up to 1000: above 100 where the CPU limit is above the request (150 keeps pods at 1.5 times their request). Default: 70.
   * @default 70
   */
  readonly targetCPUUtilizationPercentage?: number;
  /**
   * hpa mode: scaling behavior of the HPA; unset fields keep the HPA defaults.
   */
  readonly behavior?: Hal9ClusterSpecAutoscalingBehavior;
  /**
   * Tuning of the runtime's executor limit (maxConcurrentSignals) from the observed load (autoscaling.metricsSource), applied to running pods without restarting them.
   * @default {}
   */
  readonly parallelism?: Hal9ClusterSpecAutoscalingParallelism;
}

/**
 * hpa mode: scaling behavior of the HPA; unset fields keep the HPA defaults.
 */
export interface Hal9ClusterSpecAutoscalingBehavior {
  /**
   * HPA behavior when scaling up.
   */
  readonly scaleUp?: Hal9ClusterSpecAutoscalingBehaviorScaleUp;
  /**
   * HPA behavior when scaling down.
   */
  readonly scaleDown?: Hal9ClusterSpecAutoscalingBehaviorScaleDown;
}

/**
 * HPA behavior when scaling up.
 */
export interface Hal9ClusterSpecAutoscalingBehaviorScaleUp {
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
  readonly policies?: readonly Hal9ClusterSpecAutoscalingBehaviorScaleUpPoliciesItem[];
}

export interface Hal9ClusterSpecAutoscalingBehaviorScaleUpPoliciesItem {
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
export interface Hal9ClusterSpecAutoscalingBehaviorScaleDown {
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
  readonly policies?: readonly Hal9ClusterSpecAutoscalingBehaviorScaleDownPoliciesItem[];
}

export interface Hal9ClusterSpecAutoscalingBehaviorScaleDownPoliciesItem {
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
 * @default {}
 */
export interface Hal9ClusterSpecAutoscalingParallelism {
  /**
   * Let the operator tune maxConcurrentSignals between min and max. Default: false.
   * @default false
   */
  readonly enabled?: boolean;
  /**
   * Lowest executor limit the tuner may set. Default: 1.
   * @default 1
   */
  readonly min?: number;
  /**
   * Highest executor limit the tuner may set. It sets none above the model calls a pod runs at once (performance.maxConcurrentNeurons and, in api mode, performance.connectionPool.maxConnectionsPerHost) either, since a signal in a slot past them only waits for a call; parallelism.min wins over both. Default: 64.
   * @default 64
   */
  readonly max?: number;
  /**
   * Latency objective: p95 of the caller-visible latency (arrival at the pod to the answer, queue wait included), in milliseconds, that the tuner keeps. Default: 50.
   * @default 50
   */
  readonly latencySLOMs?: number;
  /**
   * With parallelism enabled, the runtime also holds each signal to latencySLOMs: one still waiting for a slot when it passes is refused (503 QUEUE_TIMEOUT, retry-after) instead of started late, and no 429/529 retry starts after it, so slots and upstream admissions go to signals that can still meet it. false: late signals are answered late. Default: true.
   * @default true
   */
  readonly shedLateSignals?: boolean;
  /**
   * Base URL of the Prometheus API the operator queries when autoscaling.metricsSource is prometheus, for example http://prometheus.monitoring.svc:9090.
   */
  readonly prometheusURL?: string;
}

/**
 * Metrics scraping of the runtime pods. The pods always carry prometheus.io annotations; their Services carry none, so a pod is scraped once whichever stock job finds it.
 * @default {}
 */
export interface Hal9ClusterSpecMonitoring {
  /**
   * Also create a Prometheus Operator ServiceMonitor (only when its API is installed). Default: false.
   * @default false
   */
  readonly serviceMonitor?: boolean;
  /**
   * Scrape interval of the ServiceMonitor, and the base of the parallelism tuner's window (four intervals): 15s, 30s, 1m; from 1s to 1m (the shipped alerts read windows of 2m, which a longer interval leaves with fewer than two samples). Default: 15s.
   * @default "15s"
   */
  readonly scrapeInterval?: string;
  /**
   * Labels added to each ServiceMonitor, so a Prometheus whose serviceMonitorSelector needs them (kube-prometheus-stack: release: <its release name>) selects it. The operator's own labels win on a clash.
   */
  readonly serviceMonitorLabels?: { readonly [key: string]: string };
}

/**
 * OpenTelemetry traces of the runtime pods, exported over OTLP/HTTP. Absent: the pods export no spans. The operator sets the runtime container's OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG and OTEL_RESOURCE_ATTRIBUTES (k8s.namespace.name, k8s.pod.name, k8s.deployment.name, service.namespace: the Hal9Cluster, hal9.neuron, then resourceAttributes), and with the Secret references HAL9_OTLP_HEADERS_FILE, OTEL_EXPORTER_OTLP_CERTIFICATE and the client certificate's pair (files mounted from the Secrets); changing it rolls the pods.
 */
export interface Hal9ClusterSpecTracing {
  /**
   * Base URL of the OTLP/HTTP collector (the runtime posts to <endpoint>/v1/traces), for example http://otel-collector.observability:4318. The operator's NetworkPolicies restrict ingress only; a policy of yours that restricts the pods' egress must allow the collector's port.
   */
  readonly endpoint?: string;
  /**
   * Share of the requests traced whole, from 0 to 1 (OTEL_TRACES_SAMPLER_ARG of parentbased_traceidratio): 0.01 keeps 1 %; a request whose caller sampled it is always traced. Default: 1.
   * @default 1
   */
  readonly samplingRatio?: number;
  /**
   * How each export's body is sent to the collector (OTEL_EXPORTER_OTLP_COMPRESSION): gzip shrinks it several times, as Grafana Cloud, Tempo and most vendors recommend, for some CPU per export; none sends it as is. Changing it rolls the pods. Default: unset, the runtime's none.
   */
  readonly compression?: "gzip" | "none";
  /**
   * How long one export to the collector may take, its retries included, as a duration in h, m, s and ms (OTEL_EXPORTER_OTLP_TIMEOUT, in milliseconds): 5s, 500ms; more than 0 and at most 30s, the batch span processor's own limit. An export that runs out is given up and its spans counted failed. Changing it rolls the pods. Default: unset, the runtime's 10s.
   */
  readonly timeout?: string;
  /**
   * More attributes of every span's resource (OTEL_RESOURCE_ATTRIBUTES, values percent-encoded by the operator), for example deployment.environment.name: production or service.name. The operator's own attributes win on a clash.
   */
  readonly resourceAttributes?: { readonly [key: string]: string };
  /**
   * Secret (in the Neuron's namespace) whose key holds the headers sent with every export to the collector, for its authentication: name=value pairs joined by commas, values percent-encoded, for example Authorization=Bearer%20<token>, or x-honeycomb-team=<key>, or X-Scope-OrgID=<tenant>,Authorization=Basic%20<base64>. Mounted read-only into the runtime pods at /var/run/hal9/otlp-headers/headers, named by HAL9_OTLP_HEADERS_FILE, so the token is never in the CR or the Deployment. Re-read every 2 s: a rotated token (the kubelet updates the mounted file within about a minute) goes with the next exports, without restarting the pods; a rotated value that is malformed keeps the headers in use, with a warning in the pod's log. A malformed value at a pod's start (a pair without = or without a value, a line break, more than 32 headers or 8192 characters) stops the runtime with a message naming HAL9_OTLP_HEADERS_FILE; a missing Secret or key keeps new pods in ContainerCreating (a FailedMount event). A Neuron that sets its own tracing.endpoint does not get it: the credentials go only to this Hal9Cluster's collector.
   */
  readonly headersSecretRef?: Hal9ClusterSpecTracingHeadersSecretRef;
  /**
   * Secret (in the Neuron's namespace) whose key holds the PEM CA certificates that sign the collector's TLS certificate (a private CA): they replace the system's trusted CAs for the export. Mounted read-only into the runtime pods at /var/run/hal9/otlp-ca/ca.crt, named by OTEL_EXPORTER_OTLP_CERTIFICATE. A cert-manager Certificate's Secret holds its issuer's CA as ca.crt (the default key); trust-manager writes a Bundle to a Secret with target.secret. Needs an https:// endpoint. Re-read every 2 s: a renewed certificate (a cert-manager renewal) is used for the next connections to the collector, without restarting the pods. A Neuron that sets its own tracing.endpoint does not get it.
   */
  readonly caSecretRef?: Hal9ClusterSpecTracingCaSecretRef;
  /**
   * Secret of type kubernetes.io/tls (tls.crt: the certificate chain, tls.key: its private key, as cert-manager writes them; in the Neuron's namespace) that the runtime presents to a collector that requires client certificates (mutual TLS). Mounted read-only at /var/run/hal9/otlp-client, named by OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY. Needs an https:// endpoint. Re-read every 2 s: a renewed certificate (a cert-manager renewal) is used for the next connections to the collector, without restarting the pods. A Neuron that sets its own tracing.endpoint does not get it.
   */
  readonly clientCertSecretRef?: Hal9ClusterSpecTracingClientCertSecretRef;
}

/**
 * Secret (in the Neuron's namespace) whose key holds the headers sent with every export to the collector, for its authentication: name=value pairs joined by commas, values percent-encoded, for example Authorization=Bearer%20<token>, or x-honeycomb-team=<key>, or X-Scope-OrgID=<tenant>,Authorization=Basic%20<base64>. Mounted read-only into the runtime pods at /var/run/hal9/otlp-headers/headers, named by HAL9_OTLP_HEADERS_FILE, so the token is never in the CR or the Deployment. Re-read every 2 s: a rotated token (the kubelet updates the mounted file within about a minute) goes with the next exports, without restarting the pods; a rotated value that is malformed keeps the headers in use, with a warning in the pod's log. A malformed value at a pod's start (a pair without = or without a value, a line break, more than 32 headers or 8192 characters) stops the runtime with a message naming HAL9_OTLP_HEADERS_FILE; a missing Secret or key keeps new pods in ContainerCreating (a FailedMount event). A Neuron that sets its own tracing.endpoint does not get it: the credentials go only to this Hal9Cluster's collector.
 */
export interface Hal9ClusterSpecTracingHeadersSecretRef {
  /**
   * Name of the Secret.
   */
  readonly name: string;
  /**
   * Key inside the Secret. Default: headers.
   * @default "headers"
   */
  readonly key?: string;
}

/**
 * Secret (in the Neuron's namespace) whose key holds the PEM CA certificates that sign the collector's TLS certificate (a private CA): they replace the system's trusted CAs for the export. Mounted read-only into the runtime pods at /var/run/hal9/otlp-ca/ca.crt, named by OTEL_EXPORTER_OTLP_CERTIFICATE. A cert-manager Certificate's Secret holds its issuer's CA as ca.crt (the default key); trust-manager writes a Bundle to a Secret with target.secret. Needs an https:// endpoint. Re-read every 2 s: a renewed certificate (a cert-manager renewal) is used for the next connections to the collector, without restarting the pods. A Neuron that sets its own tracing.endpoint does not get it.
 */
export interface Hal9ClusterSpecTracingCaSecretRef {
  /**
   * Name of the Secret.
   */
  readonly name: string;
  /**
   * Key inside the Secret. Default: ca.crt.
   * @default "ca.crt"
   */
  readonly key?: string;
}

/**
 * Secret of type kubernetes.io/tls (tls.crt: the certificate chain, tls.key: its private key, as cert-manager writes them; in the Neuron's namespace) that the runtime presents to a collector that requires client certificates (mutual TLS). Mounted read-only at /var/run/hal9/otlp-client, named by OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY. Needs an https:// endpoint. Re-read every 2 s: a renewed certificate (a cert-manager renewal) is used for the next connections to the collector, without restarting the pods. A Neuron that sets its own tracing.endpoint does not get it.
 */
export interface Hal9ClusterSpecTracingClientCertSecretRef {
  /**
   * Name of the Secret.
   */
  readonly name: string;
}

/**
 * Observed state, written by the operator.
 */
export interface Hal9ClusterStatus {
  /**
   * Conditions, each with a reason: Ready (every Neuron is Ready; True without Neurons, NoNeurons), Progressing (a Neuron is rolling out or not yet reconciled for this generation, paused Neurons named, not waited for; or Retrying a write of the cluster's own objects the apiserver refused for the moment), Degraded (a Neuron is Degraded, or the cluster's peer-token Secret or NetworkPolicies could not be written: at once when someone must act, after 5 minutes of Progressing Retrying when the apiserver refused for the moment) and Warning (spec.entryNeuron names no Neuron of the cluster; hal9.ai/paused on the cluster, which pauses nothing: pausing is per Neuron; NoAdminToken: no admin token Secret and none the operator can make, so tuned limits cannot be delivered), and for kstatus (Flux, kpt) Reconciling (Progressing=True while not Degraded) and Stalled (Degraded=True).
   */
  readonly conditions?: readonly Hal9ClusterStatusConditionsItem[];
  /**
   * metadata.generation of the spec the status describes.
   */
  readonly observedGeneration?: number;
  /**
   * Neurons that belong to this cluster.
   */
  readonly neurons?: number;
  /**
   * Neurons of this cluster whose condition Ready is True.
   */
  readonly readyNeurons?: number;
  /**
   * URL where requests enter the cluster (the Service of the entry neuron).
   */
  readonly entryEndpoint?: string;
}

export interface Hal9ClusterStatusConditionsItem {
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

/** The schema's defaults below spec, as the apiserver applies them. */
export const hal9ClusterSpecDefaults = {
  "properties": {
    "adminTokenSecretRef": {
      "properties": {
        "key": {
          "default": "token"
        }
      }
    },
    "image": {
      "default": "hal9/runtime:0.1.0"
    },
    "imagePullPolicy": {
      "default": "IfNotPresent"
    },
    "claude": {
      "default": {},
      "properties": {
        "mode": {
          "default": "mock"
        },
        "model": {
          "default": "claude-sonnet-5-5"
        },
        "maxTokens": {
          "default": 1024
        },
        "timeoutMs": {
          "default": 30000
        },
        "maxRetries": {
          "default": 0
        },
        "retry": {
          "default": {},
          "properties": {
            "maxRetries": {
              "default": 2
            },
            "baseDelayMs": {
              "default": 250
            },
            "maxDelayMs": {
              "default": 8000
            }
          }
        },
        "apiKeySecretRef": {
          "properties": {
            "key": {
              "default": "api-key"
            }
          }
        },
        "mockResponses": {
          "additionalProperties": {
            "items": {
              "properties": {
                "delayMs": {
                  "default": 0
                }
              }
            }
          }
        }
      }
    },
    "performance": {
      "default": {},
      "properties": {
        "signalBufferSize": {
          "default": 10
        },
        "bufferFlushMs": {
          "default": 50
        },
        "cacheTtlSeconds": {
          "default": 300
        },
        "cacheMaxEntries": {
          "default": 1000
        },
        "cacheLayers": {
          "default": [
            "L2"
          ]
        },
        "maxConcurrentSignals": {
          "default": 8
        },
        "maxQueueDepth": {
          "default": 1000
        },
        "maxConcurrentNeurons": {
          "default": 10
        },
        "hopLimit": {
          "default": 16
        },
        "requestTimeoutMs": {
          "default": 30000
        },
        "circuitBreaker": {
          "default": {},
          "properties": {
            "failureThreshold": {
              "default": 5
            },
            "successThreshold": {
              "default": 3
            },
            "timeoutSeconds": {
              "default": 30
            },
            "windowSeconds": {
              "default": 60
            }
          }
        },
        "connectionPool": {
          "default": {},
          "properties": {
            "maxConnectionsPerHost": {
              "default": 10
            },
            "idleTimeoutSeconds": {
              "default": 90
            }
          }
        },
        "requestBudget": {
          "default": {},
          "properties": {
            "maxFanout": {
              "default": 10
            },
            "maxSignals": {
              "default": 500
            },
            "maxModelCalls": {
              "default": 200
            },
            "maxTokens": {
              "default": 2000000
            },
            "maxCostUSD": {
              "default": 0
            }
          }
        }
      }
    },
    "placement": {
      "properties": {
        "requiredNodeLabels": {
          "items": {
            "properties": {
              "operator": {
                "default": "In"
              }
            }
          }
        },
        "preferredNodeLabels": {
          "items": {
            "properties": {
              "weight": {
                "default": 1
              },
              "operator": {
                "default": "In"
              }
            }
          }
        },
        "tolerations": {
          "items": {
            "properties": {
              "operator": {
                "default": "Equal"
              }
            }
          }
        },
        "topologySpread": {
          "properties": {
            "maxSkew": {
              "default": 1
            },
            "topologyKey": {
              "default": "kubernetes.io/hostname"
            },
            "whenUnsatisfiable": {
              "default": "ScheduleAnyway"
            }
          }
        }
      }
    },
    "nodeTuning": {
      "default": {},
      "properties": {
        "privilegedSysctlInitContainer": {
          "default": false
        },
        "transparentHugepages": {
          "default": "unset"
        },
        "thpInitContainer": {
          "default": false
        },
        "hugepages": {
          "properties": {
            "size": {
              "default": "2Mi"
            }
          }
        },
        "cpuPinning": {
          "default": false
        },
        "initImage": {
          "default": "busybox:1.37"
        }
      }
    },
    "autoscaling": {
      "default": {},
      "properties": {
        "mode": {
          "default": "operator"
        },
        "targetConcurrencyPerPod": {
          "default": 32
        },
        "targetUtilizationPercentage": {
          "default": 70
        },
        "stableWindowSeconds": {
          "default": 60
        },
        "panicWindowSeconds": {
          "default": 6
        },
        "panicThresholdPercentage": {
          "default": 200
        },
        "scaleDownDelaySeconds": {
          "default": 0
        },
        "metricsSource": {
          "default": "pods"
        },
        "enabled": {
          "default": false
        },
        "minReplicas": {
          "default": 1
        },
        "maxReplicas": {
          "default": 10
        },
        "targetCPUUtilizationPercentage": {
          "default": 70
        },
        "parallelism": {
          "default": {},
          "properties": {
            "enabled": {
              "default": false
            },
            "min": {
              "default": 1
            },
            "max": {
              "default": 64
            },
            "latencySLOMs": {
              "default": 50
            },
            "shedLateSignals": {
              "default": true
            }
          }
        }
      }
    },
    "monitoring": {
      "default": {},
      "properties": {
        "serviceMonitor": {
          "default": false
        },
        "scrapeInterval": {
          "default": "15s"
        }
      }
    },
    "tracing": {
      "properties": {
        "samplingRatio": {
          "default": 1
        },
        "headersSecretRef": {
          "properties": {
            "key": {
              "default": "headers"
            }
          }
        },
        "caSecretRef": {
          "properties": {
            "key": {
              "default": "ca.crt"
            }
          }
        }
      }
    }
  }
} as const;
