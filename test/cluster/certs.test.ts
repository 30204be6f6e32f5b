import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ControlPlaneCerts,
  generateCertificates,
  issueClientCertificate,
  opensslConfig,
} from './certs.ts';

const run = promisify(execFile);
const x509 = async (file: string, ...args: string[]) =>
  (await run('openssl', ['x509', '-in', file, '-noout', ...args])).stdout;
const verify = async (ca: string, cert: string) =>
  (await run('openssl', ['verify', '-CAfile', ca, cert])).stdout;

describe('generateCertificates', () => {
  let dir: string;
  let certs: ControlPlaneCerts;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hal9-certs-'));
    certs = await generateCertificates(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('signs the serving certificate for localhost and 127.0.0.1 with the serving CA only', async () => {
    expect(await verify(certs.servingCa, certs.servingCert)).toContain(': OK');
    await expect(verify(certs.clientCa, certs.servingCert)).rejects.toThrow();
    const text = await x509(certs.servingCert, '-text');
    expect(text).toContain('DNS:localhost, IP Address:127.0.0.1');
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).toContain('NIST CURVE: P-256');
    expect(text).toContain('CA:FALSE');
  });

  it('issues the admin client certificate as CN=admin, O=system:masters from the client CA', async () => {
    expect(await verify(certs.clientCa, certs.adminCert)).toContain(': OK');
    expect(await x509(certs.adminCert, '-subject', '-nameopt', 'compat')).toContain(
      'O=system:masters/CN=admin',
    );
    expect(await x509(certs.adminCert, '-text')).toContain('TLS Web Client Authentication');
  });

  it('makes the service-account signer its own CA', async () => {
    expect(await x509(certs.saSignerCert, '-text')).toContain('CA:TRUE');
    await expect(verify(certs.servingCa, certs.saSignerCert)).rejects.toThrow();
  });

  it('issues further users with several groups', async () => {
    const { cert } = await issueClientCertificate(dir, 'viewer', {
      user: 'viewer',
      groups: ['team-a', 'team-b'],
    });
    expect(await x509(cert, '-subject', '-nameopt', 'compat')).toContain('O=team-a/O=team-b/CN=viewer');
  });
});

describe('opensslConfig', () => {
  it('lists every group as its own O and refuses characters that would break the config', () => {
    const text = opensslConfig({ CN: ['u'], O: ['a', 'b'] }, { basicConstraints: 'critical,CA:FALSE' });
    expect(text).toContain('0.O = a\n1.O = b\nCN = u');
    expect(text).toContain('[ext]\nbasicConstraints = critical,CA:FALSE');
    expect(() => opensslConfig({ CN: ['x\ny'], O: [] }, {})).toThrow(/HAL9_TEST_OPENSSL_FAILED/);
  });
});
