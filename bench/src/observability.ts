import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuMs, type ServerProcess, spawnRuntime, startServer } from './servers.ts';
import { attack, writeTarget } from './vegeta.ts';

// What streaming and tracing cost beside the plain path, in the same run: the runtime as `npm start`
// runs it (guide defaults, L4 → L3 → L2 mock), once plain and once exporting every span over OTLP/HTTP
// to a sink; the plain runtime is also asked for ?stream=true. Open-loop load from vegeta at a fixed
// rate, interleaved rounds, medians; CPU per request from /proc, steadier than latency here.

export interface PathFigures {
  readonly name: string;
  readonly p50: number;
  readonly p99: number;
  readonly cpuUsPerRequest: number;
  readonly errors: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function observability(
  vegeta: string,
  o: { rate: number; seconds: number; rounds: number; log: (s: string) => void },
): Promise<PathFigures[]> {
  const dir = await mkdtemp(join(tmpdir(), 'hal9-bench-obs-'));
  const sink = await startServer('otlp-sink.ts', {});
  const plain = await spawnRuntime(undefined);
  const traced = await spawnRuntime(undefined, {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_SERVICE_NAME: 'hal9-bench' },
  });
  const body = JSON.stringify({ content: 'Build a task management app' });
  const paths: { name: string; server: ServerProcess; targets: string }[] = [
    {
      name: 'plain',
      server: plain,
      targets: await writeTarget(dir, 'plain', { url: `${plain.url}/v1/signals`, body }),
    },
    {
      name: 'streamed (?stream=true)',
      server: plain,
      targets: await writeTarget(dir, 'stream', { url: `${plain.url}/v1/signals?stream=true`, body }),
    },
    {
      name: 'traced (OTLP export on)',
      server: traced,
      targets: await writeTarget(dir, 'traced', { url: `${traced.url}/v1/signals`, body }),
    },
  ];
  try {
    for (const p of paths) await attack(vegeta, p.targets, { rate: o.rate, seconds: 1 }); // warm-up
    const runs = new Map(
      paths.map((p) => [p.name, [] as { p50: number; p99: number; cpu: number; errors: number }[]]),
    );
    for (let round = 0; round < o.rounds; round++) {
      for (const p of paths) {
        o.log(`observability round ${round + 1}/${o.rounds}: ${p.name}`);
        const c0 = await cpuMs(p.server.pid);
        const r = await attack(vegeta, p.targets, { rate: o.rate, seconds: o.seconds });
        const c1 = await cpuMs(p.server.pid);
        runs.get(p.name)!.push({
          p50: r.p50,
          p99: r.p99,
          cpu: ((c1 - c0) * 1000) / Math.max(1, r.requests),
          errors: r.errors,
        });
      }
    }
    return paths.map((p) => {
      const rs = runs.get(p.name)!;
      return {
        name: p.name,
        p50: median(rs.map((r) => r.p50)),
        p99: median(rs.map((r) => r.p99)),
        cpuUsPerRequest: median(rs.map((r) => r.cpu)),
        errors: rs.reduce((a, r) => a + r.errors, 0),
      };
    });
  } finally {
    await Promise.all([plain.stop(), traced.stop(), sink.stop()]);
  }
}
