import { describe, expect, it } from 'vitest';
import { arrivalOrigin, batchOrigin } from './batch-origin.ts';

describe('arrivalOrigin', () => {
  it('names the address a connection arrived at as an http origin', () => {
    expect(arrivalOrigin('10.1.2.3', 8080)).toBe('http://10.1.2.3:8080');
    expect(arrivalOrigin('::ffff:10.1.2.3', 8080)).toBe('http://10.1.2.3:8080');
    expect(arrivalOrigin('fd00::5', 8080)).toBe('http://[fd00::5]:8080');
  });

  it('names none without an IP and a port', () => {
    expect(arrivalOrigin(undefined, 8080)).toBeUndefined();
    expect(arrivalOrigin('10.1.2.3', undefined)).toBeUndefined();
    expect(arrivalOrigin('not-an-ip', 8080)).toBeUndefined();
  });
});

describe('batchOrigin', () => {
  const service = 'http://worker.hal9.svc.cluster.local:8080';

  it('takes a pod address a peer named: plain http to an IP literal', () => {
    expect(batchOrigin('http://10.1.2.3:8080', service)).toBe('http://10.1.2.3:8080');
    expect(batchOrigin('http://[fd00::5]:8080', service)).toBe('http://[fd00::5]:8080');
    expect(batchOrigin('http://10.1.2.3:80', service)).toBe('http://10.1.2.3');
  });

  it('takes none from a peer reached over https: the plain-http origin would carry the peer token in the clear', () => {
    expect(batchOrigin('http://10.1.2.3:8080', 'https://impl.hal9.svc:8443')).toBeUndefined();
    expect(batchOrigin('http://10.1.2.3:8080', service)).toBe('http://10.1.2.3:8080');
  });

  it('refuses a name, a path, credentials, another scheme, or what is no URL', () => {
    for (const named of [
      'http://evil.example:8080',
      'http://10.1.2.3:8080/steal',
      'http://10.1.2.3:8080?x=1',
      'http://u:p@10.1.2.3:8080',
      'https://10.1.2.3:8443',
      'file:///etc/passwd',
      '10.1.2.3:8080',
      '',
      ['http://10.1.2.3:8080'],
      undefined,
      `http://10.1.2.3:8080/${'x'.repeat(80)}`,
    ])
      expect(batchOrigin(named, service), String(named)).toBeUndefined();
  });

  it('takes a loopback address only from a peer reached on one (a sidecar would name our own pod)', () => {
    expect(batchOrigin('http://127.0.0.1:8080', service)).toBeUndefined();
    expect(batchOrigin('http://[::1]:8080', service)).toBeUndefined();
    expect(batchOrigin('http://127.0.0.1:8080', 'http://127.0.0.1:9000')).toBe('http://127.0.0.1:8080');
    expect(batchOrigin('http://127.0.0.1:8080', 'http://localhost:9000')).toBe('http://127.0.0.1:8080');
  });

  it('knows loopback in every spelling a URL takes', () => {
    for (const named of [
      'http://[::ffff:127.0.0.1]:8080',
      'http://[::ffff:7f00:1]:8080',
      'http://127.1:8080',
      'http://0x7f000001:8080',
      'http://127.255.0.9:8080',
    ])
      expect(batchOrigin(named, service), named).toBeUndefined();
    expect(batchOrigin('http://[::ffff:127.0.0.1]:8080', 'http://127.0.0.1:9000')).toBe(
      'http://[::ffff:7f00:1]:8080',
    );
  });

  it('refuses addresses no pod has: unspecified, link-local (a metadata service), multicast, broadcast', () => {
    for (const named of [
      'http://0.0.0.0:8080',
      'http://[::]:8080',
      'http://[::ffff:0.0.0.0]:8080',
      'http://[::7f00:1]:8080',
      'http://169.254.169.254',
      'http://[::ffff:169.254.169.254]',
      'http://[fe80::1]:8080',
      'http://[fe80::1%25eth0]:8080',
      'http://224.0.0.1:8080',
      'http://[ff02::1]:8080',
      'http://255.255.255.255:8080',
    ]) {
      expect(batchOrigin(named, service), named).toBeUndefined();
      expect(batchOrigin(named, 'http://127.0.0.1:9000'), named).toBeUndefined();
    }
    expect(batchOrigin('http://[::ffff:10.1.2.3]:8080', service)).toBe('http://[::ffff:a01:203]:8080');
  });
});
