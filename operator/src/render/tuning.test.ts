import type { V1Sysctl } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { effectiveSpec } from '../spec/effective-spec.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { privilegedPolicy, renderTuning } from './tuning.ts';

const tuning = (sysctls: V1Sysctl[], allowList = ['*']) =>
  renderTuning(
    effectiveSpec(
      aHal9Cluster({ nodeTuning: { privilegedSysctlInitContainer: true, sysctls } }),
      aNeuron('impl-1', {}),
    ),
    privilegedPolicy(allowList, 'default'),
  );

describe('renderTuning: sysctls of the privileged init container', () => {
  it('warns that a node-level sysctl is written node-wide and outlives the pod', () => {
    const { warnings, initContainers } = tuning([{ name: 'vm.swappiness', value: '1' }]);
    expect(initContainers.map((c) => c.command)).toEqual([['sysctl', '-w', 'vm.swappiness=1']]);
    expect(warnings).toEqual([
      'a privileged init container sets the sysctls vm.swappiness (nodeTuning.privilegedSysctlInitContainer); ' +
        'vm.swappiness is written node-wide: every pod on the node gets it, and it outlives the pod',
    ]);
  });

  it("names kernel.* too, but not the sysctls of the pod's own namespaces", () => {
    const [w] = tuning([
      { name: 'kernel.sched_autogroup_enabled', value: '0' },
      { name: 'kernel.shmmax', value: '68719476736' },
      { name: 'net.core.somaxconn', value: '4096' },
      { name: 'net.ipv4.tcp_slow_start_after_idle', value: '0' },
    ]).warnings;
    expect(w).toContain('; kernel.sched_autogroup_enabled is written node-wide');
    expect(w).not.toMatch(/(shmmax|somaxconn|slow_start_after_idle)[^;]*node-wide/);
    expect(w).not.toContain('network namespace');
  });

  it("says a global net.core sysctl does not exist in the pod's network namespace, so the init container fails", () => {
    const [w] = tuning([
      { name: 'net.core.netdev_max_backlog', value: '16384' },
      { name: 'vm.max_map_count', value: '262144' },
    ]).warnings;
    expect(w).toContain('; vm.max_map_count is written node-wide');
    expect(w).toContain(
      "; net.core.netdev_max_backlog: net.core sysctls other than somaxconn are global on most kernels and do not exist in the pod's network namespace, so the init container fails",
    );
    expect(w).not.toMatch(/netdev_max_backlog[^;]*node-wide/);
  });

  it('drops the warning with the init container when the namespace does not allow it', () => {
    const t = tuning([{ name: 'vm.swappiness', value: '1' }], []);
    expect(t.initContainers).toEqual([]);
    expect(t.warnings).toEqual([]);
    expect(t.denied?.reason).toBe('PrivilegedNotAllowed');
  });
});

describe('renderTuning: a slash sysctl name stored before the CRDs refused it', () => {
  it('is rendered as its dotted name, in the safe set when it is there, with a warning naming both', () => {
    const out = renderTuning(
      effectiveSpec(
        aHal9Cluster({ nodeTuning: { sysctls: [{ name: 'net/ipv4/tcp_keepalive_time', value: '600' }] } }),
        aNeuron('impl-1', {}),
      ),
      privilegedPolicy([], 'default'),
    );
    expect(out.sysctls).toEqual([{ name: 'net.ipv4.tcp_keepalive_time', value: '600' }]);
    expect(out.initContainers).toEqual([]);
    expect(out.warnings).toEqual([
      'nodeTuning.sysctls: net/ipv4/tcp_keepalive_time is set as net.ipv4.tcp_keepalive_time; write the dotted names in the spec (the CRDs now refuse slashes on a change of that list)',
    ]);
  });
});

describe('renderTuning: an unprivileged port start above the runtime port, stored before the CRDs refused it', () => {
  it('is left out, with a warning saying why, so the runtime can still listen on its port', () => {
    const out = renderTuning(
      effectiveSpec(
        aHal9Cluster({
          nodeTuning: {
            sysctls: [
              { name: 'net.ipv4.ip_unprivileged_port_start', value: '9000' },
              { name: 'net.ipv4.tcp_keepalive_time', value: '600' },
            ],
          },
        }),
        aNeuron('impl-1', {}),
      ),
      privilegedPolicy([], 'default'),
    );
    expect(out.sysctls).toEqual([{ name: 'net.ipv4.tcp_keepalive_time', value: '600' }]);
    expect(out.warnings).toEqual([
      "nodeTuning.sysctls: net.ipv4.ip_unprivileged_port_start 9000 was not applied: above 8080, the runtime's port, the runtime (no root, no capabilities) could not listen; lower it to 8080 or less",
    ]);
    // At the port itself the runtime still binds: kept.
    const at = renderTuning(
      effectiveSpec(
        aHal9Cluster({
          nodeTuning: { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '8080' }] },
        }),
        aNeuron('impl-1', {}),
      ),
      privilegedPolicy([], 'default'),
    );
    expect(at.sysctls).toEqual([{ name: 'net.ipv4.ip_unprivileged_port_start', value: '8080' }]);
    expect(at.warnings).toEqual([]);
  });
});

describe('renderTuning: CPU finer than a millicore, memory with a fraction of a byte', () => {
  it('is rounded up as the apiserver keeps it, with a warning, so the Deployment it holds matches', () => {
    const out = renderTuning(
      effectiveSpec(
        aHal9Cluster({ resources: { limits: { cpu: '1.5m', memory: '512Mi' } } }),
        aNeuron('impl-1', { resources: { requests: { cpu: '1e-500', memory: '134217728.0001' } } }),
      ),
      privilegedPolicy([], 'default'),
    );
    expect(out.resources.requests?.cpu).toBe('1m');
    expect(out.resources.requests?.memory).toBe('134217729');
    expect(out.resources.limits?.cpu).toBe('2m');
    expect(out.warnings).toEqual([
      "resources.requests.cpu 1e-500 is finer than a millicore, the least a container's CPU is counted in: 1m is set (write it so in the Neuron or its Hal9Cluster)",
      'resources.requests.memory 134217728.0001 holds a fraction of a byte: 134217729 (bytes) is set (write it so in the Neuron or its Hal9Cluster)',
      "resources.limits.cpu 1.5m is finer than a millicore, the least a container's CPU is counted in: 2m is set (write it so in the Neuron or its Hal9Cluster)",
    ]);
    // Whole millicores go in as written, with no warning.
    const whole = renderTuning(
      effectiveSpec(aHal9Cluster({}), aNeuron('impl-1', { resources: { requests: { cpu: '0.25' } } })),
      privilegedPolicy([], 'default'),
    );
    expect(whole.resources.requests?.cpu).toBe('0.25');
    expect(whole.warnings).toEqual([]);
  });
});
