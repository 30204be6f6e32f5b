import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { aChart, find, type Obj } from '../test/builders.ts';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import { dashboardDataLimitBytes, type GrafanaDashboard, GrafanaDashboards } from './grafana-dashboards.ts';

const synth = (dashboards: readonly GrafanaDashboard[], namePrefix = 'hal9'): Obj[] => {
  const chart = aChart();
  new GrafanaDashboards(chart, 'd', { namePrefix, dashboards });
  return Testing.synth(chart);
};
const problems = (f: () => unknown): readonly string[] => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(Hal9Cdk8sError);
    expect((err as Hal9Cdk8sError).code).toBe(Hal9Cdk8sErrorCode.InvalidInput);
    return (err as Hal9Cdk8sError).problems;
  }
  return [];
};

/** A dashboard whose ConfigMap data (key `<name>.json` and JSON, in UTF-8 bytes) is exactly `bytes` long. */
function aDashboardOf(name: string, bytes: number): GrafanaDashboard {
  const empty = JSON.stringify({ title: 'big', pad: '' });
  // 'é' is two bytes in UTF-8: the limit counts bytes, not characters.
  const room = bytes - Buffer.byteLength(`${name}.json`) - empty.length;
  const pad = 'é'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2);
  return { name, json: JSON.stringify({ title: 'big', pad }) };
}

describe('GrafanaDashboards', () => {
  it('keeps a ConfigMap within what the apiserver stores, counting UTF-8 bytes', () => {
    expect(dashboardDataLimitBytes).toBeLessThan(1_048_576);
    const fits = aDashboardOf('big', dashboardDataLimitBytes);
    const cm = find(synth([fits]), 'ConfigMap', 'hal9-dashboard-big');
    expect(Buffer.byteLength(`big.json${cm.data!['big.json']}`)).toBe(dashboardDataLimitBytes);

    expect(problems(() => synth([aDashboardOf('big', dashboardDataLimitBytes + 1)]))).toEqual([
      `dashboards[0].json (big) is ${dashboardDataLimitBytes + 1} bytes with its key, more than the ${dashboardDataLimitBytes} a dashboard ConfigMap may hold (the apiserver refuses a ConfigMap with more than 1048576 bytes of data; the rest is kept for its metadata): shrink the dashboard (fewer panels, or its JSON without indentation) or split it in two`,
    ]);
  });

  it('refuses a dashboard name that makes the ConfigMap name longer than 253 characters, saying how long it may be', () => {
    const json = JSON.stringify({ title: 't' });
    // 'hal9-dashboard-' is 15 characters: 238 more make 253.
    const longest = 'a'.repeat(238);
    expect(find(synth([{ name: longest, json }]), 'ConfigMap', `hal9-dashboard-${longest}`)).toBeDefined();
    expect(problems(() => synth([{ name: `${longest}b`, json }]))).toEqual([
      'dashboards[0].name (239 characters) makes the ConfigMap name (hal9-dashboard-<name>) 254 characters long, more than the 253 the apiserver allows: shorten the dashboard name to at most 238 characters',
    ]);
  });
});
