import { performance } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, type Registry } from 'prom-client';

// The runtime process's own series, on its registry: prom-client's standard process and Node.js
// metrics (process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_*,
// nodejs_gc_duration_seconds, nodejs_heap_*, …) under their usual names, so stock Node.js
// dashboards work, and how busy the event loop is. One event loop serves every request of a pod:
// the share of time it is busy is the pod's saturation, which CPU (spent on other threads too) and
// lag (sampled every 10 ms) show only in part. Started by the process's composition root (main.ts):
// the lag monitor and GC observer live as long as the process.

/** The event loop's busy time in ms since the process started (perf_hooks' utilization, `active`). */
export type BusyClock = () => number;

const eventLoopBusyMs: BusyClock = () => performance.eventLoopUtilization().active;

export function collectProcessMetrics(registry: Registry, busyMs: BusyClock = eventLoopBusyMs): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  let counted = 0;
  new Counter({
    name: 'hal9_event_loop_busy_seconds_total',
    help: 'Time the event loop spent running callbacks, not waiting for I/O (its rate is the share of time it is busy, 0-1)',
    registers: [registry],
    collect() {
      // A counter only goes up: a reading below the last one adds nothing.
      const busy = busyMs() / 1000;
      if (busy > counted) {
        this.inc(busy - counted);
        counted = busy;
      }
    },
  });
}
