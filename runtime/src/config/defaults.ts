import type { Config, NeuronConfig } from './types.ts';

// The embedded default: the guide's three-layer topology in mock mode, so `npm start` shows a real flow.
const neuron = (
  id: string,
  layer: NeuronConfig['layer'],
  system_prompt: string,
  forward_connections: string[],
): NeuronConfig => ({
  id,
  layer,
  system_prompt,
  forward_connections,
  backward_connections: [],
  endpoint: '',
  fallback_models: [],
});

export const DEFAULT_NEURONS: readonly NeuronConfig[] = [
  neuron(
    'strategic-1',
    'L4',
    'You are a strategic neuron (L4). Break the request into a design direction and forward it to the design layer.',
    ['design-1'],
  ),
  neuron(
    'design-1',
    'L3',
    'You are a design neuron (L3). Turn the strategy into a concrete design and forward it to the implementation layer.',
    ['impl-1'],
  ),
  neuron(
    'impl-1',
    'L2',
    'You are an implementation neuron (L2). Produce the final implementation result.',
    [],
  ),
];

export const DEFAULT_CONFIG: Config = {
  cluster: { name: 'standalone' },
  server: {
    host: '127.0.0.1',
    port: 8080,
    body_limit_bytes: 1_048_576,
    auth_token: '',
    auth_token_file: '',
    drain_timeout_ms: 25_000,
    // Inside the margin of the operator's termination grace period (preStop 5 s + the request
    // timeout, which is the drain, + 10 s), beside the second that cuts stalled connections.
    drain_linger_ms: 5_000,
    results_ttl_seconds: 300,
    results_max_entries: 10_000,
    results_max_bytes: 134_217_728,
    api_keys_file: '',
    peer_token_file: '',
    request_timeout_ms: 30_000,
    headers_timeout_ms: 10_000,
    keep_alive_timeout_ms: 5_000,
    sse_heartbeat_ms: 15_000,
    sse_max_buffered_bytes: 1_048_576,
  },
  entry_neuron: '',
  neurons: DEFAULT_NEURONS,
  performance: {
    signal_buffer_size: 10,
    buffer_flush_ms: 50,
    cache_ttl_seconds: 300,
    cache_max_entries: 1000,
    cache_max_bytes: 134_217_728,
    cache_layers: ['L2'],
    max_concurrent_signals: 8,
    max_queue_depth: 1000,
    max_in_flight_content_bytes: 134_217_728,
    max_concurrent_neurons: 10,
    hop_limit: 16,
    request_timeout_ms: 30_000,
    latency_slo_ms: 0,
    circuit_breaker: { failure_threshold: 5, success_threshold: 3, timeout_seconds: 30, window_seconds: 60 },
    connection_pool: { max_connections_per_host: 10, idle_timeout_seconds: 90 },
    request_budget: {
      max_fanout: 10,
      max_signals: 500,
      max_model_calls: 200,
      max_tokens: 2_000_000,
      max_cost_usd: 0,
    },
  },
  claude: {
    mode: 'mock',
    model: 'claude-sonnet-5-5',
    max_tokens: 1024,
    timeout_ms: 30_000,
    max_retries: 0,
    base_url: '',
    api_key_file: '',
    mock_responses: {},
    retry: { max_retries: 2, base_delay_ms: 250, max_delay_ms: 8_000 },
    prices: {},
  },
};
