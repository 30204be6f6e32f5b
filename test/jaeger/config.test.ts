import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderJaegerConfig } from './config.ts';

const ports = { otlpHttp: 40001, queryHttp: 40002, queryGrpc: 40003 };

// Every `endpoint` anywhere in the document.
function endpoints(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const v of node) endpoints(v, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'endpoint' && typeof v === 'string') out.push(v);
      else endpoints(v, out);
    }
  }
  return out;
}

describe('renderJaegerConfig', () => {
  it('binds every listener to 127.0.0.1 on the given ports and nothing else', () => {
    const config = parse(renderJaegerConfig({ ports }));
    expect(endpoints(config).sort()).toEqual(['127.0.0.1:40001', '127.0.0.1:40002', '127.0.0.1:40003']);
    expect(config.receivers).toEqual({ otlp: { protocols: { http: { endpoint: '127.0.0.1:40001' } } } });
    expect(config.service.extensions).toEqual(['jaeger_storage', 'jaeger_query']);
    expect(config.service.pipelines.traces.receivers).toEqual(['otlp']);
  });

  it('turns off what would listen or send on its own: internal metrics and query self-tracing', () => {
    const config = parse(renderJaegerConfig({ ports }));
    expect(config.service.telemetry.metrics).toEqual({ level: 'none' });
    expect(config.extensions.jaeger_query.enable_tracing).toBe(false);
    expect(config.service.telemetry.traces).toBeUndefined();
  });

  it('stores in memory with the given bound', () => {
    const config = parse(renderJaegerConfig({ ports, maxTraces: 7 }));
    expect(config.extensions.jaeger_storage.backends.memory_store).toEqual({ memory: { max_traces: 7 } });
    expect(config.extensions.jaeger_query.storage.traces).toBe('memory_store');
    expect(config.exporters.jaeger_storage_exporter.trace_storage).toBe('memory_store');
  });

  it('names the field of a bad port or bound', () => {
    expect(() => renderJaegerConfig({ ports: { ...ports, queryGrpc: 0 } })).toThrow(
      /ports\.queryGrpc .*got 0/,
    );
    expect(() => renderJaegerConfig({ ports: { ...ports, otlpHttp: 70000 } })).toThrow(/ports\.otlpHttp/);
    expect(() => renderJaegerConfig({ ports, maxTraces: 0 })).toThrow(/maxTraces .*got 0/);
  });
});
