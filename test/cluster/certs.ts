import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HarnessError, HarnessErrorCode } from './errors.ts';

const run = promisify(execFile);

/** Files of the three throw-away CAs (as envtest makes them) and the certificates they sign. */
export interface ControlPlaneCerts {
  /** Directory passed as --cert-dir; holds apiserver.crt/apiserver.key. */
  readonly certDir: string;
  readonly servingCa: string;
  readonly servingCaKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  /** Service-account signer: its CA cert is the public key, its key signs tokens. */
  readonly saSignerCert: string;
  readonly saSignerKey: string;
  readonly clientCa: string;
  readonly clientCaKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
}

export interface ClientIdentity {
  readonly user: string;
  readonly groups: readonly string[];
}

export const adminIdentity: ClientIdentity = Object.freeze({ user: 'admin', groups: ['system:masters'] });

// 168 h, as envtest's tinyca: long enough for any run, short enough to be obviously throw-away.
const validityDays = '7';

/** Generates all certificates into `certDir` with openssl 3 (ECDSA P-256 keys). */
export async function generateCertificates(
  certDir: string,
  bindAddress = '127.0.0.1',
): Promise<ControlPlaneCerts> {
  const p = (name: string) => join(certDir, name);
  await Promise.all([
    makeCa(certDir, 'serving-ca', 'hal9-serving-ca'),
    makeCa(certDir, 'sa-signer', 'hal9-sa-signer'),
    makeCa(certDir, 'client-cert-auth-ca', 'hal9-client-ca'),
  ]);
  await Promise.all([
    makeLeaf(certDir, 'apiserver', {
      ca: 'serving-ca',
      subject: { CN: ['localhost'], O: ['hal9'] },
      extKeyUsage: 'serverAuth',
      subjectAltName: `DNS:localhost,IP:${bindAddress}`,
    }),
    issueClientCertificate(certDir, 'admin', adminIdentity),
  ]);
  return Object.freeze({
    certDir,
    servingCa: p('serving-ca.crt'),
    servingCaKey: p('serving-ca.key'),
    servingCert: p('apiserver.crt'),
    servingKey: p('apiserver.key'),
    saSignerCert: p('sa-signer.crt'),
    saSignerKey: p('sa-signer.key'),
    clientCa: p('client-cert-auth-ca.crt'),
    clientCaKey: p('client-cert-auth-ca.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
  });
}

/**
 * Issues `<name>.crt`/`<name>.key` signed by the client CA: the apiserver authenticates it as
 * user CN with groups O.
 */
export async function issueClientCertificate(
  certDir: string,
  name: string,
  identity: ClientIdentity,
): Promise<{ cert: string; key: string }> {
  await makeLeaf(certDir, name, {
    ca: 'client-cert-auth-ca',
    subject: { CN: [identity.user], O: [...identity.groups] },
    extKeyUsage: 'clientAuth',
  });
  return { cert: join(certDir, `${name}.crt`), key: join(certDir, `${name}.key`) };
}

interface Subject {
  readonly CN: readonly string[];
  readonly O: readonly string[];
}

interface LeafSpec {
  readonly ca: string;
  readonly subject: Subject;
  readonly extKeyUsage: 'serverAuth' | 'clientAuth';
  readonly subjectAltName?: string;
}

/** Renders a minimal openssl config, so the system openssl.cnf adds no surprise extensions. */
export function opensslConfig(subject: Subject, extensions: Record<string, string>): string {
  const dn = [
    ...subject.O.map((o, i) => `${i}.O = ${escapeValue(o)}`),
    ...subject.CN.map((cn) => `CN = ${escapeValue(cn)}`),
  ];
  const ext = Object.entries(extensions).map(([k, v]) => `${k} = ${v}`);
  return ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', ...dn, '[ext]', ...ext, ''].join('\n');
}

function escapeValue(value: string): string {
  if (!/^[\w.:@ -]+$/.test(value)) {
    throw new HarnessError(
      HarnessErrorCode.OpensslFailed,
      `unsupported character in subject value ${JSON.stringify(value)}`,
    );
  }
  return value;
}

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  const config = opensslConfig(
    { CN: [cn], O: ['hal9'] },
    {
      basicConstraints: 'critical,CA:TRUE',
      keyUsage: 'critical,digitalSignature,keyEncipherment,keyCertSign',
      subjectKeyIdentifier: 'hash',
    },
  );
  await openssl(dir, name, config, []);
}

async function makeLeaf(dir: string, name: string, spec: LeafSpec): Promise<void> {
  const extensions: Record<string, string> = {
    basicConstraints: 'critical,CA:FALSE',
    keyUsage: 'critical,digitalSignature,keyEncipherment',
    extendedKeyUsage: spec.extKeyUsage,
    authorityKeyIdentifier: 'keyid',
  };
  if (spec.subjectAltName) extensions.subjectAltName = spec.subjectAltName;
  const config = opensslConfig(spec.subject, extensions);
  await openssl(dir, name, config, [
    '-CA',
    join(dir, `${spec.ca}.crt`),
    '-CAkey',
    join(dir, `${spec.ca}.key`),
  ]);
}

async function openssl(dir: string, name: string, config: string, signer: readonly string[]): Promise<void> {
  const configPath = join(dir, `${name}.cnf`);
  await writeFile(configPath, config);
  const args = [
    'req',
    '-x509',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-noenc',
    '-keyout',
    join(dir, `${name}.key`),
    '-out',
    join(dir, `${name}.crt`),
    '-days',
    validityDays,
    '-config',
    configPath,
    '-extensions',
    'ext',
    ...signer,
  ];
  try {
    await run('openssl', args, { cwd: dir });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new HarnessError(HarnessErrorCode.OpensslFailed, `openssl failed for ${name}: ${stderr.trim()}`, {
      cause: err,
    });
  }
}
