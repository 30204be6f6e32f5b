import { describe, expect, it } from 'vitest';
import { aHal9Cluster, aNeuron, defaultTopology } from '../testing/builders.ts';
import { renderNeuron } from './render-neuron.ts';
import { RenderRefusedError } from './render-refused.ts';

// An endpoint the CRD admitted before its rule checked the port (or that Go's URL parser takes and
// WHATWG's does not) must not reach the pods: the runtime refuses it at start and every pod crashes.

const render = (clusterEndpoint: string, neuronEndpoint?: string) =>
  renderNeuron({
    cluster: aHal9Cluster({ tracing: { endpoint: clusterEndpoint } }),
    neuron: aNeuron('impl-1', neuronEndpoint ? { tracing: { endpoint: neuronEndpoint } } : {}),
    peers: defaultTopology(),
  });

describe('the tracing endpoint at render', () => {
  it.each(['http://otel-collector.observability:99999', 'https://otel-collector.observability:65536'])(
    'refuses %s, whose port is above 65535, naming the field',
    (endpoint) => {
      expect(() => render(endpoint)).toThrow(RenderRefusedError);
      expect(() => render(endpoint)).toThrow(
        `tracing.endpoint ${JSON.stringify(endpoint)} is not a URL the runtime accepts (an http or https URL as a WHATWG URL parser reads it): fix its host, its port (at most 65535) or its percent-escapes`,
      );
    },
  );

  it("refuses a Neuron's own endpoint out of range, over a cluster's that is fine", () => {
    expect(() => render('http://otel-collector.observability:4318', 'http://collector.team-a:70000')).toThrow(
      /tracing\.endpoint "http:\/\/collector\.team-a:70000" is not a URL the runtime accepts/,
    );
  });

  it('renders an endpoint on port 65535 as written', () => {
    const { objects } = render('http://otel-collector.observability:65535');
    const deployment = objects.find((o) => o.kind === 'Deployment') as {
      spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
    };
    const env = deployment.spec.template.spec.containers[0]!.env ?? [];
    expect(env.find((e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value).toBe(
      'http://otel-collector.observability:65535',
    );
  });
});
