import { describe, expect, it } from 'vitest';
import { withoutRuntimeSettings } from './servers.ts';

describe('withoutRuntimeSettings', () => {
  it('keeps a shell’s runtime knobs, addresses and node flags from every bench process', () => {
    const env = withoutRuntimeSettings({
      PATH: '/usr/bin',
      HOME: '/root',
      HAL9_MAX_CONCURRENT_SIGNALS: '64',
      ANTHROPIC_BASE_URL: 'http://elsewhere',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      PORT: '8080',
      HOST: '0.0.0.0',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      NODE_OPTIONS: '--max-old-space-size=64 --cpu-prof',
    });
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/root' });
  });
});
