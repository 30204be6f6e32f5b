// A local fake of the Messages API. The answer depends on the user message, so a test drives each
// upstream outcome by what it sends: "throttle" → 429, "overload" → 529, "fail" → 500, else 200 with usage.
// Models named in `spareModels` are never overloaded: a fallback to one of them answers.
import { createServer, type Server } from 'node:http';

export interface FakeAnthropic {
  readonly url: string;
  readonly calls: () => Record<string, number>;
  close(): Promise<void>;
}

const errorBody = (type: string, message: string) =>
  JSON.stringify({ type: 'error', error: { type, message } });

/** The usage of every 200 answer: a prompt partly read from and partly written to the prompt cache. */
export const fakeUsage = Object.freeze({ input: 12, output: 3, cacheRead: 8, cacheCreation: 4 });

export async function startFakeAnthropic(
  options: { readonly spareModels?: readonly string[] } = {},
): Promise<FakeAnthropic> {
  const spare = new Set(options.spareModels ?? []);
  const calls: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const parsed = JSON.parse(body || '{}') as { model?: string; messages?: { content?: unknown }[] };
      const text = JSON.stringify(parsed.messages?.at(-1)?.content ?? '');
      const found = ['throttle', 'overload', 'fail'].find((k) => text.includes(k)) ?? 'ok';
      const kind = found === 'overload' && spare.has(parsed.model ?? '') ? 'ok' : found;
      calls[kind] = (calls[kind] ?? 0) + 1;
      const json = { 'content-type': 'application/json' };
      if (kind === 'throttle') {
        res.writeHead(429, { ...json, 'retry-after': '1' });
        res.end(errorBody('rate_limit_error', 'slow down'));
      } else if (kind === 'overload') {
        res.writeHead(529, json);
        res.end(errorBody('overloaded_error', 'Overloaded'));
      } else if (kind === 'fail') {
        res.writeHead(500, json);
        res.end(errorBody('api_error', 'Internal server error'));
      } else {
        res.writeHead(200, json);
        res.end(
          JSON.stringify({
            id: 'msg_fake',
            type: 'message',
            role: 'assistant',
            model: 'claude-sonnet-4-5',
            content: [{ type: 'text', text: 'RESULT: done' }],
            stop_reason: 'end_turn',
            stop_sequence: null,
            usage: {
              input_tokens: fakeUsage.input,
              output_tokens: fakeUsage.output,
              cache_creation_input_tokens: fakeUsage.cacheCreation,
              cache_read_input_tokens: fakeUsage.cacheRead,
            },
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => ({ ...calls }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
