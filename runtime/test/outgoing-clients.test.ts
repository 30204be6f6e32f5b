import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// undici and the Anthropic SDK are loaded only by a runtime that calls out: about 8 MB of old
// generation that every full collection would walk in a mock runtime (runtime.ts). Each case runs
// in a process of its own, which records every package its imports resolve.

const probe = fileURLToPath(new URL('./support/loaded-clients.ts', import.meta.url));

async function loadedBy(config: unknown, apiKey?: string) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [probe, JSON.stringify(config), ...(apiKey ? [apiKey] : [])],
    { timeout: 30_000 },
  );
  return JSON.parse(stdout) as { loaded: string[]; status: string };
}

// Nothing listens on port 1 of loopback: a call out is refused at once.
const nowhere = 'http://127.0.0.1:1';

describe('outgoing clients', () => {
  it('are not loaded by a mock runtime that hosts every neuron, which still answers', async () => {
    expect(await loadedBy({})).toEqual({ loaded: [], status: 'completed' });
  });

  it('load undici alone for a mock runtime with a peer', async () => {
    const r = await loadedBy({
      neurons: [
        { id: 'strategy', layer: 'L4', forward_connections: ['impl'] },
        { id: 'impl', layer: 'L2', endpoint: nowhere },
      ],
    });
    expect(r.loaded).toEqual(['undici']);
    // The peer refused the connection: the request still ends, with the failure.
    expect(r.status).toBe('failed');
  });

  it('load undici and the SDK in api mode', async () => {
    const r = await loadedBy({ claude: { mode: 'api', base_url: nowhere, max_retries: 0 } }, 'sk-test');
    expect(r.loaded).toEqual(['@anthropic-ai/sdk', 'undici']);
    expect(r.status).toBe('failed');
  });
});
