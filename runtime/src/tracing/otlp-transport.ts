import { createSecureContext } from 'node:tls';
import { readSecretFile } from '../config/secrets.ts';
import { ConfigError } from '../errors.ts';
import { type NamedFile, type OtlpCompression, type OtlpConnection, withHeadersFile } from './otel-env.ts';
import { type OtlpTls, otlpTlsOf } from './otlp-tls-agent.ts';

// The collector connection's files, read at start-up (main.ts) and checked the way TLS will use
// them, so a wrong mount fails the start naming its variable instead of failing every export later.
// The headers file and the PEM files are re-read while the runtime runs (main.ts).

/** What the exporter is given: headers and PEM texts, frozen. */
export interface OtlpTransport {
  /** The variables' headers with the headers file's over them. */
  readonly headers: Readonly<Record<string, string>>;
  /** The headers file's text as read at start (what its re-reads compare with). */
  readonly headersFileText?: string;
  /** CA certificates the collector's certificate must chain to (instead of the system's). */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT and _COMPRESSION, as otel-env.ts parsed them. */
  readonly timeoutMs: number;
  readonly compression: OtlpCompression;
}

/** A headers file holds at most MAX_OTLP_HEADERS_CHARS characters (otel-env.ts): far smaller than this. */
export const MAX_HEADERS_FILE_BYTES = 64 * 1024;

/**
 * Reads a headers file (HAL9_OTLP_HEADERS_FILE) and checks it as it will be sent, with `headers`
 * (the variables'): its text, or a ConfigError naming `field` and never a value. The shape
 * config/secret-reload.ts takes, so a re-read is checked as the start was.
 */
export function headersFileReader(headers: Readonly<Record<string, string>>) {
  return async (path: string, field: string, maxBytes = MAX_HEADERS_FILE_BYTES): Promise<string> => {
    const text = await readSecretFile(path, field, maxBytes);
    withHeadersFile(headers, field, text);
    return text;
  };
}

/** A PEM bundle of CA certificates or a certificate chain and its key: far smaller than this. */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

async function readPem(file: NamedFile, kind: RegExp, what: string): Promise<string> {
  const text = await readSecretFile(file.path, file.variable, MAX_PEM_FILE_BYTES);
  if (!kind.test(text))
    throw new ConfigError([{ field: file.variable, message: `${file.path} holds no PEM ${what}` }]);
  return text;
}

/**
 * Reads and checks the CA and client certificate files `connection` names, at start and when they are
 * re-read (main.ts); a ConfigError names the variable of the one that is wrong, never a file's content.
 */
export async function readOtlpTls(connection: OtlpConnection): Promise<OtlpTls> {
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
  return Object.freeze(otlpTlsOf({ ca: caText, cert, key }) ?? {});
}

/** Reads and checks the files `connection` names; a ConfigError names the variable of the one that is wrong. */
export async function readOtlpTransport(connection: OtlpConnection): Promise<OtlpTransport> {
  const { headersFile } = connection;
  const headersText = headersFile
    ? await headersFileReader(connection.headers)(headersFile.path, headersFile.variable)
    : undefined;
  const tls = await readOtlpTls(connection);
  return Object.freeze({
    headers:
      headersFile && headersText
        ? withHeadersFile(connection.headers, headersFile.variable, headersText)
        : connection.headers,
    ...(headersText ? { headersFileText: headersText } : {}),
    ...tls,
    timeoutMs: connection.timeoutMs,
    compression: connection.compression,
  });
}
