// Run as its own process (node loaded-clients.ts '<config JSON>' [api key]): creates a runtime from the
// config and prints, as one JSON line, which packages of the outgoing clients it loaded on the way.
import { registerHooks } from 'node:module';

const WATCHED = ['undici', '@anthropic-ai/sdk'] as const;
const loaded = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    for (const name of WATCHED) if (specifier === name || specifier.startsWith(`${name}/`)) loaded.add(name);
    return next(specifier, context);
  },
});
// Imported only now, so each import of theirs passes through the hook above.
const { parseConfig } = await import('../../src/config/parse.ts');
const { createRuntime } = await import('../../src/runtime.ts');
const apiKey = process.argv[3];
const rt = await createRuntime(
  parseConfig(JSON.parse(process.argv[2] ?? '{}'), {}),
  apiKey ? { apiKey } : {},
);
const answer = await rt.engine.submit({ content: 'hello' }).done;
await rt.shutdown();
process.stdout.write(`${JSON.stringify({ loaded: [...loaded].sort(), status: answer.status })}\n`);
