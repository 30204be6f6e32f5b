// The fake Messages API in a process of its own (node fake-messages-process.ts): prints its URL on
// stdout, answers every request with the default message, and exits with its parent's pipe. For
// probes that read their own heap, which an in-process fake's allocations would blur.
import { startFakeMessagesApi } from './fake-messages-api.ts';

const fake = await startFakeMessagesApi();
process.stdout.write(`${fake.url}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
