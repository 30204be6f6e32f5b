import { createSecureContext } from 'node:tls';
import { readSecretFile } from '../config/secrets.ts';
import { ConfigError } from '../errors.ts';
import type { NamedFile, OtlpConnection } from './otel-env.ts';

// The collector connection's files, read once at start-up (main.ts) and checked the way TLS will use
// them, so a wrong mount fails the start naming its variable instead of failing every export later.

/** What the exporter is given: headers and PEM texts, frozen. */
export interface OtlpTransport {
  readonly headers: Readonly<Record<string, string>>;
  /** CA certificates the collector's certificate must chain to (instead of the system's). */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** A PEM bundle of CA certificates or a certificate chain and its key: far smaller than this. */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

async function readPem(file: NamedFile, kind: RegExp, what: string): Promise<string> {
  const text = await readSecretFile(file.path, file.variable, MAX_PEM_FILE_BYTES);
  if (!kind.test(text))
    throw new ConfigError([{ field: file.variable, message: `${file.path} holds no PEM ${what}` }]);
  return text;
}

/** Reads and checks the files `connection` names; a ConfigError names the variable of the one that is wrong. */
export async function readOtlpTransport(connection: OtlpConnection): Promise<OtlpTransport> {
  const { ca, client } = connection;
  const caText = ca ? await readPem(ca, /-----BEGIN CERTIFICATE-----/, 'certificate') : undefined;
  const cert = client ? await readPem(client.cert, /-----BEGIN CERTIFICATE-----/, 'certificate') : undefined;
  const key = client
    ? await readPem(client.key, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'private key')
    : undefined;
  // Parsed as the TLS handshake will: a broken certificate or a key that is not the certificate's.
  const check = (field: string, options: Parameters<typeof createSecureContext>[0]) => {
    try {
      createSecureContext(options);
    } catch (e) {
      throw new ConfigError([{ field, message: `cannot be used for TLS: ${(e as Error).message}` }]);
    }
  };
  if (ca && caText) check(ca.variable, { ca: caText });
  if (client && cert && key) check(`${client.cert.variable} and ${client.key.variable}`, { cert, key });
  return Object.freeze({
    headers: connection.headers,
    ...(caText ? { ca: caText } : {}),
    ...(cert && key ? { cert, key } : {}),
  });
}
