import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import { collect, createPrometheusClient, observationQueries, observe } from './prometheus.ts';

// A stand-in for the Prometheus HTTP API at the unit level only: it answers each query with what
// `answer` returns for it, in Prometheus' JSON shapes. The tuner's integration test uses a real one.

type Answer = (query: string) => { status?: number; body: unknown } | 'hang';
const servers: Server[] = [];

async function promStub(answer: Answer): Promise<{ url: string; queries: string[] }> {
  const queries: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const query = new URLSearchParams(raw).get('query') ?? '';
      queries.push(query);
      if (req.url !== '/api/v1/query') {
        res.writeHead(404).end('not found');
        return;
      }
      const a = answer(query);
      if (a === 'hang') return;
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json' });
      res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const vector = (...values: string[]) => ({
  body: {
    status: 'success',
    data: { resultType: 'vector', result: values.map((v) => ({ metric: {}, value: [1_700_000_000, v] })) },
  },
});
const series = { namespace: 'team-a', neuron: 'impl-1', cluster: 'hal9' };
const bounds = { maxLimit: 64, maxQueue: 1000 };

/** Answers each of the five queries by the metric it reads. */
const byMetric =
  (
    values: Partial<
      Record<'p95' | 'util' | 'queue' | 'throttled' | 'throughput' | 'service', string | undefined>
    >,
  ) =>
  (q: string) => {
    const pick = q.startsWith('histogram_quantile')
      ? values.p95
      : q.includes('hal9_processing_time_sum')
        ? values.service
        : q.includes('hal9_parallel_tasks_active')
          ? values.util
          : q.includes('hal9_queue_depth')
            ? values.queue
            : q.includes('hal9_upstream_requests_total')
              ? values.throttled
              : values.throughput;
    return pick === undefined ? vector() : vector(pick);
  };

describe('createPrometheusClient', () => {
  it('returns an instant vector as samples with their labels', async () => {
    const { url } = await promStub(() => ({
      body: {
        status: 'success',
        data: {
          resultType: 'vector',
          result: [
            { metric: { pod: 'a' }, value: [1, '0.25'] },
            { metric: { pod: 'b' }, value: [1, 'NaN'] },
          ],
        },
      },
    }));
    const samples = await createPrometheusClient({ url: `${url}/` }).query('up');
    expect(samples[0]).toEqual({ labels: { pod: 'a' }, value: 0.25 });
    expect(samples[1]?.labels).toEqual({ pod: 'b' });
    expect(samples[1]?.value).toBeNaN();
  });

  it('reads only Prometheus’ float syntax: a blank, hex or padded value is no number, not zero', async () => {
    const values = ['', ' ', '0x10', ' 1', '1e', '+Inf', '-Inf', '1e-3', '-.5', '7.'];
    const { url } = await promStub(() => ({
      body: {
        status: 'success',
        data: {
          resultType: 'vector',
          result: values.map((v, i) => ({ metric: { i: `${i}` }, value: [1, v] })),
        },
      },
    }));
    const samples = await createPrometheusClient({ url }).query('up');
    expect(samples.map((s) => s.value)).toEqual([
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      0.001,
      -0.5,
      7,
    ]);
  });

  it('is no data, not zero load, when a series answers a blank value', async () => {
    const { url } = await promStub(byMetric({ p95: '0.01', util: '', queue: '0', throughput: '5' }));
    const c = await collect(createPrometheusClient({ url }), series, 30, bounds);
    expect(c.observation).toBeUndefined();
    expect(c.missing).toEqual(['utilization']);
  });

  it('turns a failed query into HAL9_ERR_METRICS_UNAVAILABLE naming its status and errorType, never its error text', async () => {
    // Whatever answers at a custom resource's URL writes `error`: the Neuron's status would publish it.
    const { url } = await promStub(() => ({
      status: 400,
      body: { status: 'error', errorType: 'bad_data', error: 'SECRET-INTERNAL-DATA at char 5' },
    }));
    const err = await createPrometheusClient({ url })
      .query('sum(')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperatorError);
    expect((err as OperatorError).code).toBe('HAL9_ERR_METRICS_UNAVAILABLE');
    expect((err as Error).message).toBe(
      `HAL9_ERR_METRICS_UNAVAILABLE: Prometheus ${url}: query failed (HTTP 400, bad_data)`,
    );
  });

  it('names an errorType only when it is one of Prometheus’ own', async () => {
    const { url } = await promStub(() => ({
      status: 503,
      body: { status: 'error', errorType: 'SECRET-INTERNAL-DATA', error: 'x' },
    }));
    const err = (await createPrometheusClient({ url })
      .query('up')
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`HAL9_ERR_METRICS_UNAVAILABLE: Prometheus ${url}: query failed (HTTP 503)`);
  });

  it('does not follow a redirect: a 307 would repeat the query at the address it names', async () => {
    const target = await promStub(() => vector('1'));
    const server = createServer((_req, res) => {
      res.writeHead(307, { location: `${target.url}/api/v1/query` }).end();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const err = (await createPrometheusClient({ url })
      .query('up')
      .catch((e: unknown) => e)) as OperatorError;
    expect(err).toBeInstanceOf(OperatorError);
    expect(err.status).toBe(307);
    expect(err.message).toMatch(/HTTP 307 \(a redirect: not followed/);
    expect(err.message).not.toContain(target.url);
    expect(target.queries).toEqual([]);
  });

  it('reports a content type that is not a media type as such, never its text', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'SECRET INTERNAL DATA' }).end('<html>');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const err = (await createPrometheusClient({ url })
      .query('up')
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('(an unrecognized content type)');
    expect(err.message).not.toContain('SECRET');
  });

  it('reports a body that is not the API’s JSON by its type, never its content or its length', async () => {
    // The URL is a custom resource's: whatever answers there would be published in the status. And a
    // gateway's error page whose length varies (a request id in it) must not change the message, which
    // would rewrite the Neuron's status condition at every pass.
    let n = 0;
    const { url } = await promStub(() => ({
      status: 200,
      body: `SECRET-INTERNAL-DATA token=abc123 ${'x'.repeat(n++)}`,
    }));
    const client = createPrometheusClient({ url });
    const err = (await client.query('up').catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(
      `HAL9_ERR_METRICS_UNAVAILABLE: Prometheus ${url}: HTTP 200 with an answer that is not the Prometheus API's JSON (application/json)`,
    );
    expect(((await client.query('up').catch((e: unknown) => e)) as Error).message).toBe(err.message);
    expect(err.message).not.toContain('SECRET');
    const other = await (await promStub(() => ({ status: 401, body: { error: 'SECRET-INTERNAL-DATA' } })))
      .url;
    const e2 = (await createPrometheusClient({ url: other })
      .query('up')
      .catch((e: unknown) => e)) as Error;
    expect(e2.message).toContain("HTTP 401 with JSON that is not the Prometheus API's answer");
    expect(e2.message).not.toContain('SECRET');
  });

  it('stops reading an answer over its limit (an endless body) and says so', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const more = () => {
        while (res.write(chunk));
      };
      res.on('drain', more);
      more();
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await expect(createPrometheusClient({ url, maxBytes: 1024 * 1024 }).query('up')).rejects.toThrow(
      /HTTP 200 with an answer over 1048576 bytes/,
    );
    server.closeAllConnections();
  });

  it('by default reads at most 64 KiB of an answer: a fast server of large JSON is not buffered', async () => {
    const big = { metric: { pad: 'x'.repeat(70 * 1024) }, value: [1_700_000_000, '1'] };
    const { url } = await promStub(() => ({
      body: { status: 'success', data: { resultType: 'vector', result: [big] } },
    }));
    await expect(createPrometheusClient({ url }).query('up')).rejects.toThrow(
      /HTTP 200 with an answer over 65536 bytes/,
    );
    // Just under the bound, the same shape is read.
    const { url: small } = await promStub(() => vector('1'));
    await expect(createPrometheusClient({ url: small }).query('up')).resolves.toHaveLength(1);
  });

  it('names an entry of the result that is not a series, with the error code, instead of a TypeError', async () => {
    for (const entry of [null, 5, 'x', [1, '2']]) {
      const { url } = await promStub(() => ({
        status: 200,
        body: { status: 'success', data: { resultType: 'vector', result: [entry] } },
      }));
      const err = (await createPrometheusClient({ url })
        .query('up')
        .catch((e: unknown) => e)) as OperatorError;
      expect(err, JSON.stringify(entry)).toBeInstanceOf(OperatorError);
      expect(err.code).toBe(OperatorErrorCode.MetricsUnavailable);
      expect(err.message).toContain('an instant vector with an entry that is not a series');
    }
  });

  it('refuses an answer of more series than any of its aggregating queries returns, naming the bound', async () => {
    const { url } = await promStub(() => vector(...Array.from({ length: 17 }, () => '1')));
    await expect(createPrometheusClient({ url }).query('up')).rejects.toThrow(
      /17 series in an answer \(at most 16: each query aggregates to one\)/,
    );
    const { url: ok } = await promStub(() => vector(...Array.from({ length: 16 }, () => '1')));
    await expect(createPrometheusClient({ url: ok }).query('up')).resolves.toHaveLength(16);
  });

  it('reports an unreachable Prometheus', async () => {
    const { url } = await promStub(() => vector('1'));
    const s = servers.pop()!;
    await new Promise((r) => s.close(r));
    await expect(createPrometheusClient({ url }).query('up')).rejects.toThrow(
      /HAL9_ERR_METRICS_UNAVAILABLE: Prometheus .* unreachable \(ECONNREFUSED\)/,
    );
  });

  it('never names the credentials of a URL that carries them (fetch refuses it)', async () => {
    const err = await createPrometheusClient({ url: 'HTTP://reader:s3cret@127.0.0.1:9' })
      .query('up')
      .catch((e: unknown) => e);
    expect(String(err)).toMatch(/Prometheus HTTP:\/\/…@127\.0\.0\.1:9: unreachable/);
    expect(String(err)).not.toContain('s3cret');
  });

  it('gives up on a Prometheus that does not answer within the timeout', async () => {
    const { url } = await promStub(() => 'hang');
    await expect(createPrometheusClient({ url, timeoutMs: 200 }).query('up')).rejects.toThrow(
      /no answer within 200 ms/,
    );
  });
});

describe('observe', () => {
  it('builds the Observation: p95 and service time in milliseconds, utilization, queue, throttling, throughput', async () => {
    const { url, queries } = await promStub(
      byMetric({
        p95: '0.042',
        util: '0.9',
        queue: '3.5',
        throttled: '0.5',
        throughput: '120',
        service: '0.008',
      }),
    );
    const obs = await observe(createPrometheusClient({ url }), series, 30, bounds);
    expect(obs).toEqual({
      p95Ms: 42,
      utilization: 0.9,
      queueDepth: 3.5,
      throttledPerSecond: 0.5,
      throughput: 120,
      serviceMs: 8,
    });
    const q = observationQueries(series, 30, bounds);
    expect(queries.sort()).toEqual(Object.values(q).sort());
  });

  it('selects one Neuron’s series by namespace, cluster, neuron label and its pods’ names', () => {
    const q = observationQueries(series, 30, bounds);
    // The runtime's `neuron` label, from this Neuron's pods only (another pod may write it too).
    expect(q.p95Seconds).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(hal9_signal_latency_seconds_bucket{namespace="team-a",hal9_cluster="hal9",hal9_ai_neuron="impl-1",neuron="impl-1"}[30s]) or rate(hal9_signal_latency_seconds_bucket{namespace="team-a",hal9_cluster="hal9",hal9_ai_neuron="",pod=~"impl-1-[a-z0-9]+-[a-z0-9]+",neuron="impl-1"}[30s])))',
    );
    // By the Neuron's target label (our ServiceMonitor), else by its pods' names.
    expect(q.utilization).toContain(
      'avg_over_time((sum(clamp_max(max by (instance, pod) (hal9_parallel_tasks_active{namespace="team-a",hal9_cluster="hal9",hal9_ai_neuron="impl-1"} or hal9_parallel_tasks_active{namespace="team-a",hal9_cluster="hal9",hal9_ai_neuron="",pod=~"impl-1-[a-z0-9]+-[a-z0-9]+"}), 64)))[30s:1s])',
    );
    expect(q.throttledPerSecond).toContain('status=~"429|529"');
  });

  it('is no data, not zero, when a query returns an empty vector', async () => {
    const { url } = await promStub(byMetric({ p95: '0.01', queue: '0', throughput: '5' }));
    const c = await collect(createPrometheusClient({ url }), series, 30, bounds);
    expect(c.observation).toBeUndefined();
    expect(c.missing).toEqual(['utilization']);
  });

  it('is no data when the window saw no traffic (histogram_quantile of zero rates is NaN)', async () => {
    const { url } = await promStub(byMetric({ p95: 'NaN', util: '0', queue: '0', throughput: '0' }));
    const c = await collect(createPrometheusClient({ url }), series, 30, bounds);
    expect(c.observation).toBeUndefined();
    expect(c.missing).toEqual(['p95']);
  });

  it('is no data, named as missing, when a latency in seconds is past what milliseconds can hold', async () => {
    const values = { p95: '1e306', util: '0.5', queue: '0', throughput: '5', service: '1e306' };
    const { url } = await promStub(byMetric(values));
    const c = await collect(createPrometheusClient({ url }), series, 30, bounds);
    expect(c.observation).toBeUndefined();
    expect(c.missing).toEqual(['p95']);
    // A service time past it is left out as well, not kept as Infinity.
    const ok = await promStub(byMetric({ ...values, p95: '0.01' }));
    const d = await collect(createPrometheusClient({ url: ok.url }), series, 30, bounds);
    expect(d.observation).toEqual({
      p95Ms: 10,
      utilization: 0.5,
      queueDepth: 0,
      throttledPerSecond: 0,
      throughput: 5,
    });
  });

  it('is no data, not a negative load, when a series is below zero', async () => {
    const { url } = await promStub(byMetric({ p95: '0.01', util: '-3', queue: '0', throughput: '5' }));
    const c = await collect(createPrometheusClient({ url }), series, 30, bounds);
    expect(c.observation).toBeUndefined();
    expect(c.concurrency).toBeUndefined();
    expect(c.missing).toEqual(['utilization']);
  });

  it('reads an absent 429/529 series as no throttling once the pods’ other series are there', async () => {
    const { url } = await promStub(byMetric({ p95: '0.01', util: '0.5', queue: '0', throughput: '5' }));
    expect((await observe(createPrometheusClient({ url }), series, 30, bounds))?.throttledPerSecond).toBe(0);
  });

  it('throws when Prometheus cannot answer, so the loop can report it', async () => {
    const { url } = await promStub(() => ({
      status: 503,
      body: { status: 'error', error: 'shutting down' },
    }));
    await expect(observe(createPrometheusClient({ url }), series, 30, bounds)).rejects.toThrow(
      /query failed \(HTTP 503\)$/,
    );
  });
});
