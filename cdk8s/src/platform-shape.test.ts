import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import { Hal9Platform, type Hal9PlatformProps } from './hal9-platform.ts';

// A platform module outside this repository is plain JavaScript to Node (its types erased): props of
// the wrong shape are problems listed, as every other mistake is, not a TypeError from inside.

const refused = (props: unknown): Hal9Cdk8sError => {
  try {
    new Hal9Platform(Testing.chart(), 'p', props as Hal9PlatformProps);
  } catch (e) {
    return e as Hal9Cdk8sError;
  }
  throw new Error('accepted');
};

describe('Hal9Platform props of the wrong shape', () => {
  it.each([
    ['no neurons', { name: 'hal9' }, 'neurons must be a list of neurons ({ id, layer, … })'],
    ['dashboards as an object', { name: 'hal9', neurons: [], dashboards: {} }, 'dashboards must be a list'],
    [
      'a neuron without an id',
      { name: 'hal9', neurons: [{ layer: 'L2' }] },
      "neurons[0].id is required: a string, the Neuron's name",
    ],
    ['labels as a list', { name: 'hal9', neurons: [], labels: ['x'] }, 'labels must be an object'],
    ['no name', { neurons: [] }, "name is missing: it must be a string, the Hal9Cluster's name"],
  ])('%s', (_, props, problem) => {
    const e = refused(props);
    expect(e).toBeInstanceOf(Hal9Cdk8sError);
    expect(e.code).toBe(Hal9Cdk8sErrorCode.InvalidPlatform);
    expect(e.problems).toContain(problem);
  });
});
