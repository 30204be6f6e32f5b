import { expect } from 'vitest';

/** A request whose caller may give up: `leave()` aborts its fetch, closing the connection. */
export function leavable(url: string, body: unknown) {
  const caller = new AbortController();
  const sent = fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: caller.signal,
  });
  sent.catch(() => {});
  return {
    leave: async () => {
      caller.abort();
      await expect(sent).rejects.toThrow();
    },
  };
}
