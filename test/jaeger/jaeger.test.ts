import { access } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { newSpanId, newTraceId, type OtlpSpanSpec, otlpTraceRequest } from './builders.ts';
import { type Jaeger, startJaeger } from './jaeger.ts';
import { processSockets } from './sockets.ts';

let jaeger: Jaeger;
beforeAll(async () => {
  jaeger = await startJaeger();
  return () => jaeger.stop();
});

// Exports like a service would: one OTLP/JSON request per call, with plain fetch.
async function exportSpans(service: string, spans: readonly OtlpSpanSpec[]): Promise<void> {
  const res = await fetch(jaeger.otlpTracesUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(otlpTraceRequest(service, spans)),
  });
  expect(res.status, await res.text()).toBe(200);
}

const nowNanos = () => BigInt(Date.now()) * 1_000_000n;

describe('the Jaeger fixture', () => {
  it('stores spans sent over OTLP/HTTP JSON and returns them with their parent links', async () => {
    const traceId = newTraceId();
    const rootId = newSpanId();
    const childId = newSpanId();
    const t0 = nowNanos();
    // The child arrives first and from another service, as a peer's export would.
    await exportSpans('fixture-peer', [
      {
        traceId,
        spanId: childId,
        parentSpanId: rootId,
        name: 'chat model-a',
        kind: 3,
        startTimeUnixNano: t0 + 1_000_000n,
        endTimeUnixNano: t0 + 5_000_000n,
        attributes: { 'gen_ai.request.model': 'model-a', 'gen_ai.usage.input_tokens': 42 },
      },
    ]);
    await exportSpans('fixture-root', [
      {
        traceId,
        spanId: rootId,
        name: 'POST /v1/signals',
        kind: 2,
        startTimeUnixNano: t0,
        endTimeUnixNano: t0 + 9_000_000n,
        statusCode: 1,
      },
    ]);

    const spans = await jaeger.waitForSpans(traceId, { count: 2 });
    const root = spans.find((s) => s.spanId === rootId);
    const child = spans.find((s) => s.spanId === childId);
    expect(root).toMatchObject({
      traceId,
      parentSpanId: undefined,
      name: 'POST /v1/signals',
      kind: 'server',
      service: 'fixture-root',
      status: { code: 'ok' },
    });
    expect(child).toMatchObject({
      traceId,
      parentSpanId: rootId,
      name: 'chat model-a',
      kind: 'client',
      service: 'fixture-peer',
      attributes: { 'gen_ai.request.model': 'model-a', 'gen_ai.usage.input_tokens': 42 },
    });
    expect(child?.startTimeUnixNano).toBe(t0 + 1_000_000n);
  });

  it('finds traces by service and keeps other services and unknown traces apart', async () => {
    const mine = newTraceId();
    const theirs = newTraceId();
    const t0 = nowNanos();
    const one = (traceId: string, name: string) => ({
      traceId,
      spanId: newSpanId(),
      name,
      startTimeUnixNano: t0,
      endTimeUnixNano: t0 + 1_000n,
    });
    await exportSpans('fixture-find-a', [one(mine, 'a')]);
    await exportSpans('fixture-find-b', [one(theirs, 'b')]);

    const traces = await jaeger.waitForTraces('fixture-find-a');
    expect(traces.map((t) => t.traceId)).toEqual([mine]);
    expect(traces[0]?.spans.map((s) => s.name)).toEqual(['a']);
    expect(await jaeger.findTraces('fixture-find-none')).toEqual([]);
    expect(await jaeger.spans(newTraceId())).toEqual([]);
    expect(await jaeger.services()).toEqual(expect.arrayContaining(['fixture-find-a', 'fixture-find-b']));
  });

  it('names what is missing when spans do not arrive in time', async () => {
    const traceId = newTraceId();
    await expect(jaeger.waitForSpans(traceId, { count: 1, timeoutMs: 300 })).rejects.toThrow(
      new RegExp(`HAL9_TEST_TIMEOUT: .*1 span\\(s\\) of trace ${traceId}[\\s\\S]*stored so far: \\(none\\)`),
    );
  });

  it('listens only on its three ports on 127.0.0.1 and holds no connection off loopback', async () => {
    const sockets = await processSockets(jaeger.pid);
    const listening = sockets.filter((s) => s.state === 'listen' || s.protocol.startsWith('udp'));
    const { otlpHttp, queryHttp, queryGrpc } = jaeger.ports;
    expect(listening.map((s) => `${s.protocol} ${s.localAddress}:${s.localPort}`).sort()).toEqual(
      [otlpHttp, queryHttp, queryGrpc].map((p) => `tcp 127.0.0.1:${p}`).sort(),
    );
    const offLoopback = sockets.filter(
      (s) => s.state === 'established' && !s.remoteAddress.startsWith('127.') && s.remoteAddress !== '::1',
    );
    expect(offLoopback).toEqual([]);
  });
});

describe('stop', () => {
  it('ends the process and removes its directory', async () => {
    const own = await startJaeger();
    await own.stop();
    expect(() => process.kill(own.pid, 0)).toThrow();
    await expect(access(own.dir)).rejects.toThrow();
    await own.stop(); // idempotent
  });
});
