import { describe, expect, it } from 'vitest';
import { nameConflictRepair } from './name-conflicts.ts';

const service = (...ports: object[]) => ({ kind: 'Service', spec: { type: 'ClusterIP', ports } });
const deployment = (...containers: object[]) => ({
  kind: 'Deployment',
  spec: { template: { spec: { containers } } },
});
const http = { name: 'http', port: 8080, protocol: 'TCP', targetPort: 'http' };

describe('nameConflictRepair', () => {
  it('finds nothing when every rendered item is there by its key, names changed or not', () => {
    expect(nameConflictRepair(service(http), service(http)).ops).toEqual([]);
    // Our apply renames the item it keeps by key: no duplicate after it.
    expect(nameConflictRepair(service(http), service({ ...http, name: 'web' })).ops).toEqual([]);
  });

  it('leaves items others added with other names (they stay after our apply)', () => {
    const live = service(http, { name: 'debug', port: 9999, protocol: 'TCP' });
    expect(nameConflictRepair(service(http), live).ops).toEqual([]);
  });

  it('removes a Service port that took the name of ours, and adds ours when the list would be empty', () => {
    const repair = nameConflictRepair(service(http), service({ ...http, port: 9999 }));
    expect(repair.ops).toEqual([
      { op: 'test', path: '/spec/ports/0/name', value: 'http' },
      { op: 'test', path: '/spec/ports/0/port', value: 9999 },
      { op: 'test', path: '/spec/ports/0/protocol', value: 'TCP' },
      { op: 'remove', path: '/spec/ports/0' },
      { op: 'add', path: '/spec/ports/-', value: http },
    ]);
    expect(repair.removed).toEqual(['/spec/ports/0 (name "http", port 9999, protocol "TCP")']);
  });

  it('only removes when another port stays in the Service', () => {
    const live = service({ name: 'debug', port: 9000 }, { ...http, port: 9999 });
    expect(nameConflictRepair(service(http), live).ops).toEqual([
      { op: 'test', path: '/spec/ports/1/name', value: 'http' },
      { op: 'test', path: '/spec/ports/1/port', value: 9999 },
      { op: 'test', path: '/spec/ports/1/protocol', value: 'TCP' },
      { op: 'remove', path: '/spec/ports/1' },
    ]);
  });

  it('removes a container port by its container’s live index, highest first within a list', () => {
    const ours = [
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9100, protocol: 'TCP' },
    ];
    const desired = deployment({ name: 'runtime', ports: ours });
    const live = deployment(
      { name: 'sidecar', ports: [{ name: 'http', containerPort: 80 }] },
      {
        name: 'runtime',
        ports: [
          { name: 'http', containerPort: 9090, protocol: 'TCP' },
          { name: 'metrics', containerPort: 9200, protocol: 'TCP' },
        ],
      },
    );
    const { ops } = nameConflictRepair(desired, live);
    expect(ops.filter((o) => o.op === 'remove').map((o) => o.path)).toEqual([
      '/spec/template/spec/containers/1/ports/1',
      '/spec/template/spec/containers/1/ports/0',
    ]);
    // The sidecar's own `http` is another container's: names are unique per container.
    expect(ops.some((o) => o.path.includes('containers/0'))).toBe(false);
  });

  it('leaves lists that are not unique by name alone (env, volume mounts)', () => {
    const desired = deployment({
      name: 'runtime',
      volumeMounts: [{ name: 'config', mountPath: '/etc/hal9' }],
    });
    const live = deployment({ name: 'runtime', volumeMounts: [{ name: 'config', mountPath: '/elsewhere' }] });
    expect(nameConflictRepair(desired, live).ops).toEqual([]);
  });
});
