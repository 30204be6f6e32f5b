import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { helpRequested, parseConfig, usage } from './config.ts';
import { systemClock } from './controller/clock.ts';
import { OperatorError, OperatorErrorCode } from './errors.ts';
import { loadKubeConfig } from './kube/load-kubeconfig.ts';
import { type RunningOperator, startOperator } from './operator.ts';
import { renderNeuron } from './render/index.ts';

// Composition root: the only module that reads argv/env, creates the KubeConfig, the registry
// and the logger, and installs signal handlers.
if (helpRequested(process.argv.slice(2))) {
  process.stdout.write(usage);
  process.exit(0);
}
const parsed = parseConfig(process.argv.slice(2), process.env);
if ('errors' in parsed) {
  for (const e of parsed.errors) process.stderr.write(`${OperatorErrorCode.InvalidFlag}: ${e}\n`);
  process.stderr.write('Run with --help for the flags.\n');
  process.exit(2);
}
const { config } = parsed;
// Written synchronously: an asynchronous write still in flight at process.exit makes pino's exit
// flush retry forever when the log's reader has gone (EPIPE), so SIGTERM would never end the process.
const logger = pino(
  { level: config.logLevel, base: { component: 'hal9-operator' } },
  pino.destination({ dest: 1, sync: true }),
);

const kc = new KubeConfig();
try {
  loadKubeConfig(kc, config.kubeconfig, process.env.KUBECONFIG);
} catch (err) {
  // Like a bad flag: one line naming the file, exit 2.
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}

const registry = new Registry();
registry.setDefaultLabels({});
// The process's CPU, memory, GC and event loop series, which stock controller dashboards read.
collectDefaultMetrics({ register: registry });

process.on('unhandledRejection', (reason) => {
  // A stray rejection must not kill the operator; it is logged and the queue retries.
  logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'Unhandled rejection');
});

let operator: RunningOperator;
try {
  operator = await startOperator({
    kc,
    config,
    registry,
    logger,
    clock: systemClock,
    render: renderNeuron,
    onLostLeadership: () => {
      logger.error('Exited after losing leadership');
      process.exit(1);
    },
  });
} catch (err) {
  // A port that cannot be bound is a configuration error like a bad flag: one line that names the
  // flag to change, exit 2. startOperator has started nothing by then.
  if (err instanceof OperatorError && err.code === OperatorErrorCode.ListenFailed) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
logger.info({ metricsPort: operator.metricsPort, healthPort: operator.healthPort }, 'Started operator');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Stopping operator');
    const force = setTimeout(() => process.exit(1), 25_000);
    force.unref();
    operator.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
