import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LoadReport } from '@hal9/api';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchLoadReport, parseLoadReport } from './load-report.ts';
import { setPodLimit } from './runtime-pods.ts';

// A pod's answers are hostile input: the operator must never buffer more of one than it will
// accept. Loopback servers stand in for pods that misbehave.

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

async function aPod(handler: RequestListener): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Answers 200 and streams spaces until the client goes away; resolves `gone` when it does. */
function endless() {
  let gone!: () => void;
  const closed = new Promise<void>((r) => {
    gone = r;
  });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const handler: RequestListener = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.on('close', gone);
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) {}
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  };
  return { handler, closed };
}

describe('fetchLoadReport on a misbehaving pod', () => {
  it('stops reading an endless body at the size limit and drops the connection', async () => {
    const pod = endless();
    const url = await aPod(pod.handler);
    // A deadline far longer than the read: the limit, not the deadline, ends it.
    await expect(fetchLoadReport(url, { timeoutMs: 60_000 })).rejects.toThrow(
      /HAL9_ERR_POD_LOAD_UNAVAILABLE: .*report larger than 262144 bytes/,
    );
    await pod.closed;
  });

  it('refuses a body whose declared length is over the limit without reading it', async () => {
    let written = 0;
    const url = await aPod((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(512 * 1024 * 1024) });
      written += 1024;
      res.write(Buffer.alloc(1024, 0x20));
    });
    await expect(fetchLoadReport(url, { timeoutMs: 60_000 })).rejects.toThrow(/report larger than/);
    expect(written).toBe(1024);
  });

  it('says which token a pod refused, and that a rotation explains it for a while', async () => {
    const url = await aPod((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"unauthorized"}');
    });
    await expect(fetchLoadReport(url, { token: 'old' })).rejects.toThrow(
      /HTTP 401: the pod refused the operator's admin token: .*spec\.adminTokenSecretRef/,
    );
    await expect(setPodLimit(url, 4, { token: 'old' })).rejects.toThrow(
      /HTTP 401: the pod refused the operator's admin token/,
    );
    // With no token to send (no admin key and no Secret named), the refusal says that, not a rotation.
    for (const call of [fetchLoadReport(url, {}), setPodLimit(url, 4, {})])
      await expect(call).rejects.toThrow(
        /HTTP 401: the operator sent no admin token: .*--leader-election-namespace.*spec\.adminTokenSecretRef/,
      );
  });

  it("names a refusal by the runtime's error code, never by the body's text, which changes from answer to answer", async () => {
    let n = 0;
    const url = await aPod((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'INTERNAL', message: `request ${++n} failed` } }));
    });
    const messages = new Set<string>();
    for (let i = 0; i < 3; i++) {
      await fetchLoadReport(url).catch((e: Error) => messages.add(e.message));
      await setPodLimit(url, 4).catch((e: Error) => messages.add(e.message.replace('PUT', 'GET')));
    }
    // One message per kind of call, the same on every answer: a condition holding it is written once.
    expect(messages.size).toBeLessThanOrEqual(2);
    for (const m of messages) {
      expect(m).toContain('HTTP 500 INTERNAL');
      expect(m).not.toContain('request');
    }
  });

  it('does not follow a redirect: a pod is called at its own address only', async () => {
    // Another loopback address stands in for a service outside the pod CIDRs.
    const elsewhere: string[] = [];
    const outside = createServer((req, res) => {
      elsewhere.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"max_concurrent_signals":7}');
    });
    await new Promise<void>((r) => outside.listen(0, '127.0.0.2', r));
    const to = `http://127.0.0.2:${(outside.address() as AddressInfo).port}`;
    try {
      const url = await aPod((req, res) => {
        res.writeHead(req.method === 'PUT' ? 307 : 302, { location: `${to}${req.url}` }).end();
      });
      await expect(fetchLoadReport(url, { token: 't' })).rejects.toThrow(
        /HTTP 302 \(a redirect: not followed/,
      );
      await expect(setPodLimit(url, 4, { token: 't' })).rejects.toThrow(
        /HTTP 307 \(a redirect: not followed/,
      );
      expect(elsewhere).toEqual([]);
    } finally {
      outside.closeAllConnections();
      await new Promise((r) => outside.close(r));
    }
  });

  it('refuses a limit a pod reports back that is not an integer from 1 (status.parallelism.current is one)', async () => {
    for (const answered of [0.5, 0, -3, 1e9, '8']) {
      const url = await aPod((_req, res) => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ max_concurrent_signals: answered }));
      });
      await expect(setPodLimit(url, 4), String(answered)).rejects.toThrow(/not an integer from 1 to 10000/);
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
      server = undefined;
    }
  });

  it('names garbage as garbage, never quoting it (it may echo the token it was sent)', async () => {
    const echo: RequestListener = (req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(`<html>debug: you sent ${req.headers.authorization}</html>`);
    const url = await aPod(echo);
    const err = await fetchLoadReport(url, { token: 'ADMIN-SECRET-TOKEN-123456' }).catch((e: Error) => e);
    expect(String(err)).toMatch(/an answer that is not JSON \(text\/html, 61 bytes\)$/);
    expect(String(err)).not.toContain('SECRET');
  });
});

describe('setPodLimit on a misbehaving pod', () => {
  it('stops reading an endless answer and reports the pod, not a parse crash', async () => {
    const pod = endless();
    const url = await aPod(pod.handler);
    await expect(setPodLimit(url, 4, { timeoutMs: 60_000 })).rejects.toThrow(
      /HAL9_ERR_POD_TUNING_FAILED: .*answer larger than/,
    );
    await pod.closed;
  });

  it('reports an answer that is not JSON as a failed delivery, never quoting it', async () => {
    const url = await aPod((req, res) => res.end(`<html>you sent ${req.headers.authorization}</html>`));
    const err = await setPodLimit(url, 4, { token: 'ADMIN-SECRET-TOKEN-123456' }).catch((e: Error) => e);
    expect(String(err)).toMatch(
      /HAL9_ERR_POD_TUNING_FAILED: .*: an answer that is not JSON \(no content type, 54 bytes\)$/,
    );
    expect(String(err)).not.toContain('SECRET');
  });
});

describe('parseLoadReport', () => {
  const histogram = { bounds: [0.1], counts: [3, 4], sum: 0.5 };
  const report = {
    startedAt: 1,
    at: 2,
    limit: 8,
    active: 1,
    queued: 0,
    busySeconds: 1,
    concurrencySeconds: 1,
    arrived: 5,
    completed: 4,
    served: 3,
    throttled: 0,
    latency: histogram,
    neurons: { impl: { arrived: 5, completed: 4, served: 3, latency: histogram, forwarded: {} } },
  };

  it('keeps ids such as __proto__ and constructor as plain keys, and finds no id a report lacks', () => {
    const text = JSON.stringify(report).replace(
      '"neurons":{',
      '"neurons":{"__proto__":{"arrived":1,"completed":1,"latency":{"bounds":[0.1],"counts":[1,1],"sum":0.1},"forwarded":{}},',
    );
    const r = parseLoadReport(JSON.parse(text)) as LoadReport;
    expect(Object.keys(r.neurons).sort()).toEqual(['__proto__', 'impl']);
    expect(Object.getPrototypeOf(r.neurons)).toBeNull();
    // A Neuron named constructor has no entry here: not Object's constructor.
    expect(r.neurons.constructor).toBeUndefined();
    expect(r.neurons.impl!.forwarded.constructor).toBeUndefined();
  });

  it('keeps the signals that held a slot, overall and per neuron', () => {
    const r = parseLoadReport(report);
    expect(r).toMatchObject({ completed: 4, served: 3, neurons: { impl: { completed: 4, served: 3 } } });
  });

  it('takes a report from a runtime that does not count them, without inventing a count', () => {
    const { served: _, ...older } = report;
    const { served: __, ...olderNeuron } = report.neurons.impl;
    const r = parseLoadReport({ ...older, neurons: { impl: olderNeuron } });
    expect(typeof r).toBe('object');
    expect(r).not.toHaveProperty('served');
    expect((r as { neurons: Record<string, object> }).neurons.impl).not.toHaveProperty('served');
  });

  it('refuses counters too large to difference: near Number.MAX_VALUE they overflow to Infinity and NaN', () => {
    expect(parseLoadReport({ ...report, busySeconds: 1.7e308, concurrencySeconds: 1.7e308 })).toBe(
      'busySeconds must be a number from 0 to 1e15',
    );
    expect(typeof parseLoadReport({ ...report, busySeconds: 1e15 })).toBe('object');
  });

  it('refuses a latency histogram whose quantile would mean nothing: no bounds, bounds out of order, counts not cumulative', () => {
    const cases: [unknown, string][] = [
      [
        { bounds: [], counts: [5], sum: 1 },
        'latency.bounds must be 1 to 64 increasing numbers from 0 to 1e15',
      ],
      [{ bounds: [0.5, 0.1], counts: [1, 2, 3], sum: 1 }, 'latency.bounds must be 1 to 64 increasing'],
      [{ bounds: [0.1, 0.1], counts: [1, 2, 3], sum: 1 }, 'latency.bounds must be 1 to 64 increasing'],
      [
        { bounds: [0.1, 0.5], counts: [3, 2, 4], sum: 1 },
        'latency.counts must be cumulative (each at least the one before it)',
      ],
    ];
    for (const [latency, message] of cases) {
      expect(parseLoadReport({ ...report, latency })).toContain(message);
      expect(
        parseLoadReport({ ...report, neurons: { impl: { ...report.neurons.impl, latency } } }),
      ).toContain(`neurons.impl.${message}`);
    }
    // The runtime's own shape passes.
    expect(
      parseLoadReport({ ...report, latency: { bounds: [0.1, 0.5], counts: [1, 1, 3], sum: 1 } }),
    ).not.toBeTypeOf('string');
  });

  it('names a served count that is not a count', () => {
    expect(parseLoadReport({ ...report, served: -1 })).toBe('served must be a number from 0 to 1e15');
    expect(
      parseLoadReport({ ...report, neurons: { impl: { ...report.neurons.impl, served: 'many' } } }),
    ).toBe('neurons.impl.served must be a number from 0 to 1e15');
  });

  it('never quotes an id that is not a Kubernetes name, in any message about its entry', () => {
    const bad = { arrived: 1, completed: 1, latency: histogram, forwarded: {} };
    const entries = {
      'needs arrived and completed': { arrived: 'x' },
      'served must be': { ...bad, served: -1 },
      'latency is not an object': { ...bad, latency: 1 },
      'latency.bounds must be': { ...bad, latency: { bounds: 'x', counts: [1], sum: 0 } },
      'latency.counts must hold': { ...bad, latency: { bounds: [1], counts: [1], sum: 0 } },
      'latency.sum must be': { ...bad, latency: { bounds: [1], counts: [1, 1], sum: -1 } },
      'forwarded must map': { ...bad, forwarded: { x: -1 } },
    };
    const ids = ['x'.repeat(250_000), 'a'.repeat(64), 'Impl', 'impl.v2', 'impl-', 'a b', 'ok\nforged line'];
    for (const [what, entry] of Object.entries(entries)) {
      for (const id of ids) {
        const m = parseLoadReport({ ...report, neurons: { [id]: entry } }) as string;
        expect(m, what).toMatch(/^neurons\.<an id that is not a Kubernetes name>[. ]/);
        expect(m, what).toContain(what);
        expect(m, what).not.toContain(id);
      }
      // A name's shape is quoted: it says which Neuron.
      expect(parseLoadReport({ ...report, neurons: { ['a'.repeat(63)]: entry } }), what).toContain(
        `neurons.${'a'.repeat(63)}`,
      );
    }
  });

  it("refuses a limit that is not an integer from 1 to 10000: summed into slots, one pod hid the others' saturation", () => {
    for (const limit of [1e15, 10_001, 0, 2.5])
      expect(parseLoadReport({ ...report, limit }), String(limit)).toBe(
        'limit must be an integer from 1 to 10000',
      );
    for (const limit of [1, 10_000]) expect(parseLoadReport({ ...report, limit })).toMatchObject({ limit });
  });
});
