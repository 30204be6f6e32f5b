import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runtimeMemoryFloor, runtimeMemoryProblem } from './runtime-memory.ts';

const root = new URL('../../', import.meta.url).pathname;
const tail =
  'A runtime holds about 100 MB once it listens: a memory request must be at least 64Mi and a limit at least 128Mi';

describe('runtimeMemoryProblem', () => {
  it.each<['requests' | 'limits', number | string, string]>([
    [
      'limits',
      512,
      `resources.limits.memory 512 is 512 bytes (a number without a unit is bytes); did you mean 512Mi? ${tail}`,
    ],
    [
      'requests',
      '256',
      `resources.requests.memory 256 is 256 bytes (a number without a unit is bytes); did you mean 256Mi? ${tail}`,
    ],
    [
      'limits',
      '+100',
      `resources.limits.memory +100 is +100 bytes (a number without a unit is bytes); did you mean +100Gi? ${tail}`,
    ],
    [
      'limits',
      '512m',
      `resources.limits.memory 512m is 512 thousandths of a byte (m is milli); did you mean 512Mi? ${tail}`,
    ],
    [
      'requests',
      '.5m',
      `resources.requests.memory .5m is .5 thousandths of a byte (m is milli); did you mean .5Gi? ${tail}`,
    ],
    [
      'limits',
      4,
      `resources.limits.memory 4 is 4 bytes (a number without a unit is bytes); did you mean 4Gi? ${tail}`,
    ],
    ['requests', 0, `resources.requests.memory 0 is 0 bytes (a number without a unit is bytes). ${tail}`],
    ['limits', '100Mi', `resources.limits.memory 100Mi is too little. ${tail}`],
    ['requests', '1e3', `resources.requests.memory 1e3 is too little. ${tail}`],
    [
      'requests',
      '67108863',
      `resources.requests.memory 67108863 is 67108863 bytes (a number without a unit is bytes); did you mean 67108863Mi? ${tail}`,
    ],
  ])('%s.memory %j is refused with what it means', (side, q, message) => {
    expect(runtimeMemoryProblem(side, q)).toEqual(message);
  });

  it.each<['requests' | 'limits', number | string]>([
    ['requests', '64Mi'],
    ['requests', 67108864],
    ['requests', '0.0625Gi'],
    ['limits', '128Mi'],
    ['limits', '134217728000m'],
    ['limits', '2Gi'],
    // Not quantities: their own rule reports them.
    ['limits', '512MB'],
    ['limits', -1],
  ])('%s.memory %j passes', (side, q) => {
    expect(runtimeMemoryProblem(side, q)).toBeUndefined();
  });

  it.each(['hal9.ai_hal9clusters.yaml', 'hal9.ai_neurons.yaml'])(
    'has the floors of the CEL rules of %s',
    (file) => {
      type Rule = { rule: string; messageExpression?: string };
      type Node = { properties: Record<string, Node>; 'x-kubernetes-validations': Rule[] };
      const crd = parse(readFileSync(`${root}crds/${file}`, 'utf8')) as {
        spec: { versions: { schema: { openAPIV3Schema: Node } }[] };
      };
      const resources = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec!.properties.resources!;
      for (const side of ['requests', 'limits'] as const) {
        const field = resources.properties[side]!.properties.memory!;
        const rules = field['x-kubernetes-validations'].filter((r) => r.messageExpression);
        expect(rules, side).toHaveLength(1);
        expect(rules[0]!.rule).toContain(`quantity('${runtimeMemoryFloor[side]}')) >= 0`);
        expect(rules[0]!.messageExpression).toContain(`'resources.${side}.memory '`);
        expect(rules[0]!.messageExpression).toContain(tail);
      }
    },
  );
});
