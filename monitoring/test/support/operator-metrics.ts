// Operator metrics for the real-Prometheus test, served by prom-client with the operator's own
// metric definitions (operator/src/metrics) plus any catalogue metric the operator does not register yet.
// A timer keeps counters moving, as a busy operator would, so rate() has something to show.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createMetrics } from '../../../operator/src/metrics/metrics.ts';
import { operatorMetrics } from '../../src/metric-catalogue.ts';

export interface OperatorMetricsServer {
  readonly address: string;
  readonly registry: Registry;
  close(): Promise<void>;
}

/** Registers catalogue metrics that `createMetrics` lacks, with the catalogue's type and labels. */
export function completeOperatorRegistry(registry: Registry): string[] {
  const added: string[] = [];
  for (const spec of operatorMetrics) {
    if (registry.getSingleMetric(spec.name)) continue;
    const common = {
      name: spec.name,
      help: `${spec.name} (pending in the operator)`,
      labelNames: [...spec.labels],
      registers: [registry],
    };
    if (spec.type === 'counter') new Counter(common);
    else if (spec.type === 'gauge') new Gauge(common);
    else new Histogram(common);
    added.push(spec.name);
  }
  return added;
}

export async function startOperatorMetrics(): Promise<OperatorMetricsServer & { pending: string[] }> {
  const registry = new Registry();
  const m = createMetrics(registry);
  const pending = completeOperatorRegistry(registry);
  const decisions = registry.getSingleMetric('hal9_operator_parallelism_decisions_total') as Counter<string>;
  m.leaderStatus.set({ name: 'hal9-operator' }, 1);
  m.neuronParallelism.set({ namespace: 'hal9-test', neuron: 'strategic-1' }, 8);
  let tick = 0;
  const step = () => {
    tick++;
    for (const controller of ['hal9cluster', 'neuron']) {
      const q = { name: controller, controller };
      m.reconcileTotal.inc({ controller, result: 'success' });
      m.reconcileTime.observe({ controller }, 0.004 * (tick % 5));
      m.queueAdds.inc(q);
      m.queueDepth.set(q, tick % 3);
      m.queueDuration.observe(q, 0.001 * (tick % 7));
      m.workDuration.observe(q, 0.002 * (tick % 4));
      if (tick % 2 === 0) m.queueRetries.inc(q);
    }
    // The neuron controller keeps failing, so Hal9OperatorReconcileErrors has something to fire on.
    m.reconcileTotal.inc({ controller: 'neuron', result: 'error' });
    m.reconcileErrors.inc({ controller: 'neuron' });
    m.apiWrites.inc({ resource: 'deployments', verb: 'apply' });
    decisions.inc({ reason: tick % 2 === 0 ? 'raise' : 'hold' });
  };
  step();
  const timer = setInterval(step, 250);
  const server: Server = createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    registry,
    pending,
    close: async () => {
      clearInterval(timer);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
