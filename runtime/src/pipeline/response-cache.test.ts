import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { answerBytes, cacheKey, cacheScope, INLINE_KEY_MAX, ResponseCache } from './response-cache.ts';

const caller = { signal: new AbortController().signal, deadline: Number.POSITIVE_INFINITY };

describe('ResponseCache', () => {
  it('counts each entry’s key in cache_max_bytes: short answers to long inline contents fill it too', async () => {
    const maxBytes = 1_048_576;
    const cache = new ResponseCache<{ text: string }>({
      maxEntries: 1_000_000,
      maxBytes,
      sizeOf: answerBytes,
      ttlMs: 60_000,
      clock: new ManualClock(),
    });
    const scope = cacheScope('impl-1', 'claude-sonnet-5-5', 'You implement.');
    const answer = { text: 'RESULT: ok' };
    const keys = Array.from({ length: 2_000 }, (_, i) =>
      cacheKey(scope, `${i}:`.padEnd(INLINE_KEY_MAX, 'x')),
    );
    for (const key of keys) await cache.getOrLoad(key, async () => answer, caller);
    // Each entry holds about 2 KiB of key beside an answer estimated at 276 bytes: counting only the
    // answer, all 2,000 would stay (552 kB).
    const entryBytes = answerBytes(answer) + 2 * keys[0]!.length;
    expect(cache.size).toBe(Math.floor(maxBytes / entryBytes));
    // The oldest went, the newest stayed.
    expect(cache.peek(keys[0]!)).toBeUndefined();
    expect(cache.peek(keys.at(-1)!)).toBe(answer);
  });
});
