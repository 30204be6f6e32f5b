// The runtime's configuration after validation: frozen, fully defaulted, snake_case keys as in the file.

export const LAYERS = ['L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7', 'L8', 'L9'] as const;
export type Layer = (typeof LAYERS)[number];

export interface NeuronConfig {
  readonly id: string;
  readonly layer: Layer;
  readonly system_prompt: string;
  readonly forward_connections: readonly string[];
  readonly backward_connections: readonly string[];
  /** Base URL of the runtime hosting this neuron; empty when it is hosted in this process. */
  readonly endpoint: string;
  /** Models tried in order after claude.model when it is overloaded (529) or its breaker is open. */
  readonly fallback_models: readonly string[];
}

/** USD per million tokens of one model, by token type. */
export interface ModelPrice {
  readonly input: number;
  readonly output: number;
  readonly cache_read: number;
  readonly cache_write: number;
}

export interface MockResponse {
  readonly trigger: string;
  readonly response: string;
  readonly delay_ms: number;
}

export interface PerformanceConfig {
  readonly signal_buffer_size: number;
  readonly buffer_flush_ms: number;
  readonly cache_ttl_seconds: number;
  readonly cache_max_entries: number;
  /** Estimated bytes of cached answers at most (each answer's text, twice its length, and its record). */
  readonly cache_max_bytes: number;
  readonly cache_layers: readonly Layer[];
  readonly max_concurrent_signals: number;
  readonly max_queue_depth: number;
  /**
   * Bytes (UTF-8) of content the requests in progress brought at most: their first signals' and
   * the signals peers forwarded. A request past it is refused (429 QUEUE_FULL): the queue's depth
   * alone lets max_queue_depth requests of server.body_limit_bytes each be held (1 GiB at defaults).
   * Unset: 128 MiB, or eight bodies of the limit when that is more.
   */
  readonly max_in_flight_content_bytes: number;
  readonly max_concurrent_neurons: number;
  readonly hop_limit: number;
  readonly request_timeout_ms: number;
  /**
   * Latency objective from a signal's arrival here to its answer (0: none). A signal that has
   * certainly missed it is refused instead of started late: still waiting for a slot when it passes
   * (QUEUE_TIMEOUT), or a 429/529 retry that would start after it (the upstream's error returns).
   */
  readonly latency_slo_ms: number;
  readonly circuit_breaker: {
    readonly failure_threshold: number;
    readonly success_threshold: number;
    readonly timeout_seconds: number;
    readonly window_seconds: number;
  };
  readonly connection_pool: {
    readonly max_connections_per_host: number;
    readonly idle_timeout_seconds: number;
  };
  readonly request_budget: RequestBudget;
}

/** What one request may consume; exceeding a budget ends that branch with a stable error code. */
export interface RequestBudget {
  /** Children followed from one answer (a target once per distinct content). */
  readonly max_fanout: number;
  /** Signals in one request's tree on this runtime. */
  readonly max_signals: number;
  /** Upstream model calls of one request (cache hits are free). */
  readonly max_model_calls: number;
  /** Model tokens (input + output, cache reads and writes included) of one request. */
  readonly max_tokens: number;
  /** USD one request may cost (priced models only); 0: no cost budget. */
  readonly max_cost_usd: number;
}

export interface ClaudeConfig {
  readonly mode: 'mock' | 'api';
  readonly model: string;
  readonly max_tokens: number;
  readonly timeout_ms: number;
  /** The SDK's own retries (0 or 1); never together with retry.max_retries > 0 (not stacked). */
  readonly max_retries: number;
  readonly base_url: string;
  readonly api_key_file: string;
  readonly mock_responses: Readonly<Partial<Record<Layer, readonly MockResponse[]>>>;
  /** 429/529 retries within the request's deadline (exponential backoff, equal jitter, retry-after honoured). */
  readonly retry: {
    readonly max_retries: number;
    readonly base_delay_ms: number;
    readonly max_delay_ms: number;
  };
  /** Price table by model; a model without a price has no cost (never a guess). */
  readonly prices: Readonly<Record<string, ModelPrice>>;
}

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly body_limit_bytes: number;
  readonly auth_token: string;
  readonly auth_token_file: string;
  readonly drain_timeout_ms: number;
  /**
   * After the drain, how long GET /v1/signals/:id (and its events) keeps serving requests that ended
   * in it, until each has been read once; new work is still refused.
   */
  readonly drain_linger_ms: number;
  readonly results_ttl_seconds: number;
  readonly results_max_entries: number;
  /** Estimated bytes of finished requests kept for GET /v1/signals/:id at most (their results and trace). */
  readonly results_max_bytes: number;
  /** YAML mapping of client name → bearer key for the signal API; empty: the signal API is open. */
  readonly api_keys_file: string;
  /** Shared secret between the runtime pods of one cluster (peer route); empty: peers unauthenticated. */
  readonly peer_token_file: string;
  /** Time to receive a whole request (headers and body) from a client. */
  readonly request_timeout_ms: number;
  /** Time to receive a request's headers. */
  readonly headers_timeout_ms: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keep_alive_timeout_ms: number;
  /** A comment line on idle event streams this often, so proxies keep them open. */
  readonly sse_heartbeat_ms: number;
  /** Unsent event-stream bytes a slow reader may leave before its stream ends (STREAM_OVERFLOW). */
  readonly sse_max_buffered_bytes: number;
}

export interface Config {
  readonly cluster: { readonly name: string };
  readonly server: ServerConfig;
  readonly entry_neuron: string;
  readonly neurons: readonly NeuronConfig[];
  readonly performance: PerformanceConfig;
  readonly claude: ClaudeConfig;
}

/** The tuning values that PUT /v1/admin/performance may change while running. */
export const LIVE_TUNABLES = [
  'max_concurrent_signals',
  'max_concurrent_neurons',
  'signal_buffer_size',
  'buffer_flush_ms',
  'max_queue_depth',
] as const;
export type LiveTunable = (typeof LIVE_TUNABLES)[number];
export type LiveTuning = { -readonly [K in LiveTunable]: number };

/** Bounds of the live tunables: the config file and PUT /v1/admin/performance accept the same ranges. */
export const LIVE_TUNABLE_BOUNDS: Readonly<Record<LiveTunable, readonly [min: number, max: number]>> = {
  max_concurrent_signals: [1, 10_000],
  max_concurrent_neurons: [1, 10_000],
  signal_buffer_size: [1, 10_000],
  buffer_flush_ms: [0, 60_000],
  max_queue_depth: [0, 10_000_000],
};
