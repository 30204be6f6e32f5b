import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCluster, aNeuron } from './support/builders.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition } from './support/reads.ts';

// A Neuron's autoscaling.parallelism.prometheusURL is its author's: the operator queries whatever
// answers there, from inside the cluster. Neither a redirect nor the answer's text may make it a way
// to reach or read another service: the operator follows no redirect, and its status says the HTTP
// status and Prometheus' own errorType, never what the server wrote.

const space = useOperatorNamespace('prometheus-read-back', { args: () => ['--tuning-interval', '1'] });
const { reads: r, apply } = space;
const SECRET = 'SECRET-READ-BACK-7f3a';
const servers: Server[] = [];
/** Requests the redirect's target saw. */
const reached: string[] = [];
let targetURL = '';
let redirectURL = '';
let errorURL = '';

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  // The service a redirect would lead to: it answers as a Prometheus would, so a followed redirect
  // would pass for one.
  targetURL = await listen((req, res) => {
    reached.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
  });
  redirectURL = await listen((_req, res) => {
    res.writeHead(307, { location: `${targetURL}/api/v1/query` }).end();
  });
  errorURL = await listen((_req, res) => {
    res.writeHead(422, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'error', errorType: 'execution', error: `${SECRET} from inside` }));
  });
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((done) => s.close(done));
  }
});

const tunedBy = (prometheusURL: string) => ({
  autoscaling: { metricsSource: 'prometheus', parallelism: { enabled: true, min: 1, max: 8, prometheusURL } },
});

/** The Neuron and its first ParallelismTuned condition, whatever it says. */
const tuned = (name: string) =>
  waitFor(
    `Neuron ${name} ParallelismTuned`,
    async () => {
      const n = await r.neuron(name);
      const c = condition(n, 'ParallelismTuned');
      return c ? { neuron: n, ...c } : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );

describe("a Neuron's Prometheus URL", () => {
  it('is not followed through a redirect, and its error text stays out of status and events', async () => {
    await apply([
      aCluster('hal9', { claude: { mode: 'mock' } }),
      aNeuron('redirected', 'hal9', tunedBy(redirectURL)),
      aNeuron('answered', 'hal9', tunedBy(errorURL)),
    ]);

    const redirected = await tuned('redirected');
    expect(redirected.reason).toBe('MetricsUnavailable');
    expect(redirected.message).toContain(`Prometheus ${redirectURL}: HTTP 307 (a redirect: not followed`);
    expect(redirected.message).not.toContain(targetURL);

    const answered = await tuned('answered');
    expect(answered.reason).toBe('MetricsUnavailable');
    expect(answered.message).toContain(`Prometheus ${errorURL}: query failed (HTTP 422, execution)`);
    expect(JSON.stringify(answered.neuron)).not.toContain(SECRET);
    expect(JSON.stringify(await r.events())).not.toContain(SECRET);

    // Passes went on meanwhile: the target was never asked, by any of them.
    expect(reached).toEqual([]);
  });
});
