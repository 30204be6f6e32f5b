import { describe, expect, it, vi } from 'vitest';
import { apiRuntimes } from './support/api-runtimes.ts';
import { hang, message } from './support/fake-messages-api.ts';
import type { Started } from './support/runtime.ts';

// DELETE /v1/signals/:id cancels a request kept by id (?wait=false, ?stream=true): its model calls
// are cut off (the fake upstream sees the connection close), its slot and permit are free, and it is
// counted as cancelled, never as an upstream failure. The request deadline is the default 30 s, far
// past every wait here: only the DELETE can end these calls.

const runtimes = apiRuntimes();

describe('DELETE /v1/signals/:id', () => {
  it('cancels a ?wait=false request: the model call is cut off, the slot freed, the request ends CANCELLED', async () => {
    const { fake, rt } = await runtimes.api();
    fake.respond(hang());
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'never answered' });
    expect(accepted.status).toBe(202);
    await vi.waitFor(() => expect(fake.inFlight).toBe(1), { timeout: 5_000, interval: 5 });
    // As a client that sends a JSON content-type on every request does, with no body.
    const cancelled = await rt.delete(`/v1/signals/${accepted.body.id}`, {
      'content-type': 'application/json',
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: accepted.body.id, status: 'timed_out' });
    expect(cancelled.body.errors.at(-1)).toMatchObject({
      code: 'CANCELLED',
      message: `the request was cancelled by DELETE /v1/signals/${accepted.body.id}`,
    });
    await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 5_000, interval: 10 });
    expect(rt.runtime.engine.occupancy).toEqual({ active: 0, queued: 0, onPeers: 0, permits: 0 });
    expect(await rt.metric('hal9_requests_total', { outcome: 'cancelled' })).toBe(1);
    expect(await rt.metric('hal9_requests_total', { outcome: 'timed_out' })).toBe(0);
    expect(await rt.metric('hal9_upstream_requests_total', { status: 'cancelled' })).toBe(1);
    expect(rt.runtime.engine.breakerState).toBe('closed');
    // Again: answered as it ended, nothing else changes.
    const again = await rt.delete(`/v1/signals/${accepted.body.id}`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(cancelled.body);
    expect(await rt.metric('hal9_requests_total', { outcome: 'cancelled' })).toBe(1);
  });

  it('cancels a streamed request, whose stream ends with it; an ended request is answered as it is', async () => {
    const { fake, rt } = await runtimes.api();
    fake.respond(hang());
    const stream = await openStream(rt, { content: 'stop me' });
    await vi.waitFor(() => expect(fake.inFlight).toBe(1), { timeout: 5_000, interval: 5 });
    const cancelled = await rt.delete(`/v1/signals/${stream.id}`);
    expect(cancelled.status).toBe(200);
    const text = await stream.rest();
    expect(text).toMatch(/event: end\ndata: .*"status":"timed_out"/);
    expect(text).toContain('"code":"CANCELLED"');
    await vi.waitFor(() => expect(fake.inFlight).toBe(0), { timeout: 5_000, interval: 10 });
    // A request that completed is not changed by a DELETE.
    fake.respond(message('RESULT: done'));
    const done = await rt.post('/v1/signals?wait=false', { content: 'quick' });
    await vi.waitFor(
      async () => expect((await rt.get(`/v1/signals/${done.body.id}`)).body.status).toBe('completed'),
      {
        timeout: 5_000,
        interval: 10,
      },
    );
    const late = await rt.delete(`/v1/signals/${done.body.id}`);
    expect(late.status).toBe(200);
    expect(late.body.status).toBe('completed');
  });

  it("is 404 for an unknown id, and for another client's request, which goes on (reading it too)", async () => {
    const keys = new Map([
      ['team-a', 'key-aaaaaaaaaaaaaaaaaaaa'],
      ['team-b', 'key-bbbbbbbbbbbbbbbbbbbb'],
    ]);
    const { fake, rt } = await runtimes.api({}, { apiKey: 'k', apiKeys: keys });
    fake.respond(hang());
    const a = { authorization: 'Bearer key-aaaaaaaaaaaaaaaaaaaa' };
    const b = { authorization: 'Bearer key-bbbbbbbbbbbbbbbbbbbb' };
    expect((await rt.delete('/v1/signals/no-such-id', a)).status).toBe(404);
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'team a' }, a);
    await vi.waitFor(() => expect(fake.inFlight).toBe(1), { timeout: 5_000, interval: 5 });
    const other = await rt.delete(`/v1/signals/${accepted.body.id}`, b);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('NOT_FOUND');
    // Nor may it read it or follow its events: unknown to it, as a wrong id is.
    expect((await rt.get(`/v1/signals/${accepted.body.id}`, b)).status).toBe(404);
    expect((await rt.get(`/v1/signals/${accepted.body.id}/events`, b)).status).toBe(404);
    expect((await rt.get(`/v1/signals/${accepted.body.id}`, a)).body.status).toBe('running');
    expect(fake.inFlight).toBe(1);
    expect((await rt.delete(`/v1/signals/${accepted.body.id}`, a)).body.status).toBe('timed_out');
  });
});

/** POST ?stream=true: the request's id (the stream's opening comment, `: <id>`), then the rest of it. */
async function openStream(rt: Started, body: unknown): Promise<{ id: string; rest(): Promise<string> }> {
  const res = await fetch(`${rt.url}/v1/signals?stream=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const more = async () => {
    const { value, done } = await reader.read();
    if (!done) text += decoder.decode(value, { stream: true });
    return !done;
  };
  while (!/^: \S+$/m.test(text)) if (!(await more())) throw new Error(`no id in the stream: ${text}`);
  return {
    id: /^: (\S+)$/m.exec(text)![1]!,
    async rest() {
      while (await more());
      return text;
    },
  };
}
