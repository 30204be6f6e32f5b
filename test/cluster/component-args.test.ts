import { describe, expect, it } from 'vitest';
import type { ControlPlaneCerts } from './certs.ts';
import {
  apiServerArgs,
  controllerManagerArgs,
  etcdArgs,
  kwokArgs,
  type Ports,
  schedulerArgs,
} from './component-args.ts';
import { podNetworkFor } from './loopback.ts';

const ports: Ports = { etcdClient: 1001, etcdPeer: 1002, apiServer: 1003, scheduler: 1004 };
const network = podNetworkFor(200);
const certs = Object.fromEntries(
  [
    'certDir',
    'servingCa',
    'servingCaKey',
    'servingCert',
    'servingKey',
    'saSignerCert',
    'saSignerKey',
    'clientCa',
    'clientCaKey',
    'adminCert',
    'adminKey',
  ].map((k) => [k, `/c/${k}`]),
) as unknown as ControlPlaneCerts;

const all = [
  ...etcdArgs('/d', ports),
  ...apiServerArgs(certs, ports, network),
  ...controllerManagerArgs('/k', certs),
  ...schedulerArgs('/d', '/k', ports),
  ...kwokArgs('/k', ['/s/a.yaml'], network),
];

describe('component command lines', () => {
  it('bind and advertise loopback only', () => {
    const addresses = all.flatMap((a) =>
      [...a.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3}):\d+/g)].map((m) => m[1]),
    );
    expect(new Set(addresses)).toEqual(new Set(['127.0.0.1']));
    expect(apiServerArgs(certs, ports, network)).toContain('--advertise-address=127.0.0.1');
    expect(apiServerArgs(certs, ports, network)).toContain('--bind-address=127.0.0.1');
    expect(schedulerArgs('/d', '/k', ports)).toContain('--bind-address=127.0.0.1');
    expect(controllerManagerArgs('/k', certs)).toContain('--secure-port=0');
  });

  it('run the apiserver as envtest does: RBAC, client CA, no ServiceAccount admission; owner references enforced', () => {
    const args = apiServerArgs(certs, ports, network);
    expect(args).toEqual(
      expect.arrayContaining([
        '--authorization-mode=RBAC',
        '--client-ca-file=/c/clientCa',
        '--disable-admission-plugins=ServiceAccount',
        '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
        '--service-account-signing-key-file=/c/saSignerKey',
      ]),
    );
  });

  it('turn off leader election and load every kwok stage file', () => {
    expect(controllerManagerArgs('/k', certs)).toContain('--leader-elect=false');
    expect(schedulerArgs('/d', '/k', ports)).toContain('--leader-elect=false');
    expect(
      kwokArgs('/k', ['/s/a.yaml', '/s/b.yaml'], network).filter((a) => a.startsWith('--config=')),
    ).toEqual(['--config=/s/a.yaml', '--config=/s/b.yaml']);
    expect(etcdArgs('/d', ports)).toContain('--unsafe-no-fsync=true');
  });

  it('leave off only the controllers asked for', () => {
    expect(controllerManagerArgs('/k', certs).some((a) => a.startsWith('--controllers'))).toBe(false);
    expect(controllerManagerArgs('/k', certs, ['endpoint', 'endpointslice'])).toContain(
      '--controllers=*,-endpoint,-endpointslice',
    );
  });

  it('put pod, node and Service addresses inside 127.0.0.0/8', () => {
    expect(kwokArgs('/k', [], network)).toEqual(
      expect.arrayContaining(['--cidr=127.200.0.0/17', '--node-ip=127.200.255.1']),
    );
    expect(apiServerArgs(certs, ports, network)).toContain('--service-cluster-ip-range=127.200.254.0/24');
    const cidrs = all.flatMap((a) => [...a.matchAll(/\b(\d{1,3}(?:\.\d{1,3}){3})\/\d+/g)].map((m) => m[1]));
    expect(cidrs.length).toBeGreaterThan(0);
    for (const ip of cidrs) expect(ip).toMatch(/^127\./);
  });

  it('refuse a pod network outside loopback', () => {
    expect(() => kwokArgs('/k', [], { ...network, podCidr: '10.244.0.0/16' })).toThrow(
      /HAL9_TEST_NON_LOOPBACK: podNetwork.podCidr "10.244.0.0\/16" must be a CIDR inside 127.0.0.0\/8/,
    );
    expect(() => kwokArgs('/k', [], { ...network, nodeIp: '10.244.255.1' })).toThrow(/podNetwork.nodeIp/);
    expect(() => apiServerArgs(certs, ports, { ...network, serviceCidr: '10.0.0.0/24' })).toThrow(
      /podNetwork.serviceCidr/,
    );
  });
});
