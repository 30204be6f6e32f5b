import { Agent } from 'undici';
import { createAnthropicClient } from '../../runtime/src/claude/anthropic.ts';
import { parseConfig } from '../../runtime/src/config/parse.ts';
import { createRuntime } from '../../runtime/src/runtime.ts';
import { startFakeMessagesServer } from './servers.ts';
import { type Summary, sample, summarize } from './stats.ts';

// `api` mode: what the runtime adds per hop over a direct SDK call to the same local server.

export interface ApiOverhead {
  readonly direct: Summary;
  readonly oneHop: Summary;
  readonly threeHops: Summary;
  readonly perHopP50: number;
}

export async function apiOverhead(n = 2000): Promise<ApiOverhead> {
  const fake = await startFakeMessagesServer();
  const agent = new Agent({ connections: 10, keepAliveTimeout: 90_000 });
  const client = createAnthropicClient({
    apiKey: 'bench',
    baseURL: fake.url,
    timeoutMs: 30_000,
    maxRetries: 0,
    dispatcher: agent,
  });
  const directCall = () =>
    client.messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 1024,
      system: [
        {
          type: 'text',
          text: 'You are an implementation neuron (L2).',
          cache_control: { type: 'ephemeral' },
        },
      ],
      messages: [{ role: 'user', content: 'benchmark signal' }],
    });
  const rt = createRuntime(
    parseConfig({ claude: { mode: 'api', base_url: fake.url }, performance: { cache_layers: [] } }),
    { apiKey: 'bench' },
  );
  const oneHopCall = () => rt.engine.submit({ content: 'benchmark signal', neuron: 'impl-1' }).done;
  const threeHopCall = () => rt.engine.submit({ content: 'benchmark signal' }).done;
  // Interleaved rounds, so drift in machine load affects reference and runtime alike.
  const d: number[] = [];
  const one: number[] = [];
  const three: number[] = [];
  const rounds = 10;
  for (let r = 0; r < rounds; r++) {
    d.push(...(await sample(Math.floor(n / rounds), r === 0 ? 300 : 20, directCall)));
    one.push(...(await sample(Math.floor(n / rounds), r === 0 ? 300 : 20, oneHopCall)));
    three.push(...(await sample(Math.floor(n / rounds / 3), r === 0 ? 100 : 10, threeHopCall)));
  }
  const direct = summarize(d);
  const oneHop = summarize(one);
  const threeHops = summarize(three);
  await rt.shutdown();
  await agent.close();
  await fake.stop();
  return { direct, oneHop, threeHops, perHopP50: threeHops.p50 / 3 - direct.p50 };
}
