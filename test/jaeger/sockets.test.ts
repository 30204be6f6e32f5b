import { describe, expect, it } from 'vitest';
import { parseProcNet } from './sockets.ts';

const header =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

describe('parseProcNet', () => {
  it('decodes IPv4 listeners and connections', () => {
    const text = [
      header,
      '   0: 0100007F:10E2 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0 100 0 0 10 0',
      '   1: 0100007F:C350 0200A8C0:01BB 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0 20 4 30 10 -1',
    ].join('\n');
    expect(parseProcNet('tcp', text)).toEqual([
      {
        protocol: 'tcp',
        localAddress: '127.0.0.1',
        localPort: 4322,
        remoteAddress: '0.0.0.0',
        remotePort: 0,
        state: 'listen',
        inode: '1111',
      },
      {
        protocol: 'tcp',
        localAddress: '127.0.0.1',
        localPort: 50000,
        remoteAddress: '192.168.0.2',
        remotePort: 443,
        state: 'established',
        inode: '2222',
      },
    ]);
  });

  it('decodes IPv6 wildcard, loopback and IPv4-mapped addresses', () => {
    const text = [
      header,
      '   0: 00000000000000000000000000000000:4074 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1',
      '   1: 00000000000000000000000001000000:4074 0000000000000000FFFF00000100007F:0050 01 00000000:00000000 00:00000000 00000000     0        0 4444 1',
    ].join('\n');
    const [any, lo] = parseProcNet('tcp6', text);
    expect(any).toMatchObject({ localAddress: '::', localPort: 16500, state: 'listen' });
    expect(lo).toMatchObject({ localAddress: '::1', remoteAddress: '127.0.0.1', remotePort: 80 });
  });
});
