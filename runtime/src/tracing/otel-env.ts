// The standard OTEL_* variables the runtime reads, and whether they turn tracing on. Apart from the
// provider so the entry point can decide without loading the OpenTelemetry SDK and exporter (about
// 0.2 s of a pod's start) when tracing is off.

import { ConfigError } from '../errors.ts';

export interface OtelEnv {
  readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  readonly OTEL_SERVICE_NAME?: string;
  /** Resource attributes of every span: `key=value` pairs joined by ",", values percent-encoded. */
  readonly OTEL_RESOURCE_ATTRIBUTES?: string;
  readonly OTEL_SDK_DISABLED?: string;
  readonly OTEL_TRACES_SAMPLER?: string;
  readonly OTEL_TRACES_SAMPLER_ARG?: string;
  /** Milliseconds between two exports of the batch processor (default 5000). */
  readonly OTEL_BSP_SCHEDULE_DELAY?: string;
  /** Characters a span's attribute value (or status message) keeps; the general one below is its fallback. */
  readonly OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT?: string;
  readonly OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT?: string;
}

/** A variable's value as the specification reads it: trimmed, and an empty one as unset. */
const given = (v: string | undefined): string | undefined => v?.trim() || undefined;

/** The traces URL the env names, or undefined when tracing is off (OTEL_SDK_DISABLED=true, any case). */
export function tracesURL(env: OtelEnv): string | undefined {
  if (given(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.trim();
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT)
    return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.trim().replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

/** The samplers OTEL_TRACES_SAMPLER may name: the specification's built-in ones. */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface Sampling {
  readonly sampler: SamplerName;
  /** The share of new traces a ratio sampler records, from 0 to 1. */
  readonly ratio: number;
}

/**
 * OTEL_TRACES_SAMPLER (case-insensitive; default parentbased_always_on) and, for the ratio samplers,
 * OTEL_TRACES_SAMPLER_ARG (a number from 0 to 1; default 1). A value the runtime cannot follow goes
 * into `problems` (the start refuses it) rather than becoming a silent 100 % or 0 %.
 */
export function sampling(env: OtelEnv, problems: Problem[] = []): Sampling {
  const name = given(env.OTEL_TRACES_SAMPLER)?.toLowerCase() ?? 'parentbased_always_on';
  const sampler = SAMPLERS.find((s) => s === name);
  if (!sampler)
    problems.push({ field: 'OTEL_TRACES_SAMPLER', message: `must be one of ${SAMPLERS.join(', ')}` });
  const arg = given(env.OTEL_TRACES_SAMPLER_ARG);
  let ratio = 1;
  if (arg !== undefined && sampler?.endsWith('traceidratio')) {
    const r = /^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(arg) ? Number(arg) : Number.NaN;
    if (r >= 0 && r <= 1) ratio = r;
    else
      problems.push({
        field: 'OTEL_TRACES_SAMPLER_ARG',
        message: `must be a number from 0 to 1 for ${sampler} (the share of new traces recorded; default 1)`,
      });
  }
  return { sampler: sampler ?? 'parentbased_always_on', ratio };
}

/** The longest OTEL_BSP_SCHEDULE_DELAY taken (ms). */
export const MAX_SCHEDULE_DELAY_MS = 3_600_000;
/** The most characters OTEL_[SPAN_]ATTRIBUTE_VALUE_LENGTH_LIMIT may let a span value keep. */
export const MAX_VALUE_LENGTH = 1_048_576;

/**
 * OTEL_BSP_SCHEDULE_DELAY and OTEL_[SPAN_]ATTRIBUTE_VALUE_LENGTH_LIMIT, when set, must be whole
 * numbers in range: a typo would otherwise leave the default in force without a word.
 */
function batchProblems(env: OtlpConnectionEnv, problems: Problem[]): void {
  const whole = (variable: keyof OtlpConnectionEnv, max: number, what: string) => {
    const v = given(env[variable]);
    if (v === undefined) return;
    const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!(n >= 1 && n <= max))
      problems.push({ field: variable, message: `must be a whole number from 1 to ${max} (${what})` });
  };
  whole('OTEL_BSP_SCHEDULE_DELAY', MAX_SCHEDULE_DELAY_MS, 'milliseconds between exports; default 5000');
  for (const v of ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'] as const)
    whole(v, MAX_VALUE_LENGTH, 'characters a span attribute value keeps; default 4096');
}

/**
 * OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL: the runtime exports OTLP over HTTP with JSON bodies, which
 * every OTLP/HTTP receiver takes beside protobuf; grpc (another port, another framing) it cannot send.
 */
function protocolProblem(env: OtlpConnectionEnv, problems: Problem[]): void {
  const set = setting(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL');
  const value = set?.value.toLowerCase();
  if (!set || value === 'http/json' || value === 'http/protobuf') return;
  problems.push({
    field: set.variable,
    message:
      value === 'grpc'
        ? 'is grpc, which the runtime does not send: it exports OTLP over HTTP (a collector takes it on its HTTP port, 4318 by default). Set http/json (or http/protobuf) and the HTTP endpoint, or unset it'
        : 'must be http/json or http/protobuf (the runtime exports OTLP over HTTP with JSON bodies)',
  });
}

/**
 * The collector's connection, from OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, _CERTIFICATE, _CLIENT_CERTIFICATE
 * and _CLIENT_KEY: the headers parsed, the files only named (main.ts reads them: otlp-transport.ts).
 */
export interface OtlpConnectionEnv
  extends Pick<
    OtelEnv,
    | 'OTEL_EXPORTER_OTLP_ENDPOINT'
    | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
    | 'OTEL_TRACES_SAMPLER'
    | 'OTEL_TRACES_SAMPLER_ARG'
    | 'OTEL_BSP_SCHEDULE_DELAY'
    | 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT'
    | 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'
  > {
  /** http/json or http/protobuf (both sent as JSON, which OTLP/HTTP receivers take); grpc is refused. */
  readonly OTEL_EXPORTER_OTLP_PROTOCOL?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string;
  readonly OTEL_EXPORTER_OTLP_HEADERS?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_HEADERS?: string;
  /**
   * A file holding headers in the same `name=value,...` form (a mounted Secret): re-read while the
   * runtime runs, so a rotated collector token is taken up without a restart. Its headers win over
   * the variables' per name.
   */
  readonly HAL9_OTLP_HEADERS_FILE?: string;
  /** PEM file of the CA certificates that sign the collector's certificate (they replace the system's). */
  readonly OTEL_EXPORTER_OTLP_CERTIFICATE?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE?: string;
  /** PEM file of this client's certificate chain (mutual TLS), with the key below. */
  readonly OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE?: string;
  readonly OTEL_EXPORTER_OTLP_CLIENT_KEY?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY?: string;
  /** Milliseconds one export may take, retries included (a whole number; default 10000). */
  readonly OTEL_EXPORTER_OTLP_TIMEOUT?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_TIMEOUT?: string;
  /** `gzip` or `none` (the default): how each export's body is sent. */
  readonly OTEL_EXPORTER_OTLP_COMPRESSION?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_COMPRESSION?: string;
}

/** A file the environment names, and the variable that named it (for the error that says what to fix). */
export interface NamedFile {
  readonly path: string;
  readonly variable: string;
}

export interface OtlpConnection {
  /** From the variables: names lower-cased, values percent-decoded. */
  readonly headers: Readonly<Record<string, string>>;
  /** HAL9_OTLP_HEADERS_FILE: read at start and re-read while the runtime runs (main.ts). */
  readonly headersFile?: NamedFile;
  readonly ca?: NamedFile;
  /** Both or neither. */
  readonly client?: { readonly cert: NamedFile; readonly key: NamedFile };
  /** Milliseconds one export may take, its retries included. */
  readonly timeoutMs: number;
  readonly compression: OtlpCompression;
}

export type OtlpCompression = 'gzip' | 'none';

/** The OpenTelemetry specification's default export timeout. */
export const DEFAULT_OTLP_TIMEOUT_MS = 10_000;
/**
 * The longest export timeout taken: the batch span processor gives up on an export after 30 s (its
 * own default, which the runtime keeps), so a longer timeout would leave the request running after
 * its spans were given up, holding one of the exporter's connections for nothing.
 */
export const MAX_OTLP_TIMEOUT_MS = 30_000;

/** Headers at most (a collector's auth takes one or two). */
export const MAX_OTLP_HEADERS = 32;
/** Characters of one headers variable at most: a token of a few KiB fits, and proxies commonly refuse request heads past 8 to 16 KiB. */
export const MAX_OTLP_HEADERS_CHARS = 8192;
// RFC 9110 token: a header name.
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// A field value Node sends: visible ASCII, space and tab, no CR, LF or NUL.
const headerValue = /^[\t\x20-\x7e]*$/;
// Sent by the exporter itself, or framing: a user's value would break the request, or (User-Agent)
// be replaced by the exporter's on every export.
const reservedHeaders = new Set([
  'content-type',
  'user-agent',
  'content-length',
  'content-encoding',
  'host',
  'transfer-encoding',
  'connection',
]);

type Problem = { field: string; message: string };

/** A header name percent-decoded (`X%2DTenant` is X-Tenant), or as written when it does not decode. */
function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** One headers variable (or file) as a map (W3C Baggage's `key=value` list, values percent-decoded), or its problems. */
function parseHeaders(variable: string, text: string | undefined, problems: Problem[]): Map<string, string> {
  const headers = new Map<string, string>();
  if (text === undefined || text.trim() === '') return headers;
  const fail = (message: string) => problems.push({ field: variable, message });
  if (text.length > MAX_OTLP_HEADERS_CHARS) {
    fail(`is ${text.length} characters; at most ${MAX_OTLP_HEADERS_CHARS}`);
    return headers;
  }
  const members = text.split(',').filter((m) => m.trim() !== '');
  if (members.length > MAX_OTLP_HEADERS) {
    fail(`has ${members.length} headers; at most ${MAX_OTLP_HEADERS}`);
    return headers;
  }
  for (const [i, member] of members.entries()) {
    const at = member.indexOf('=');
    // Percent-decoded as the exporter decodes it: it also parses this variable from process.env and
    // sends what it finds under our headers, so a name read differently here would go out twice.
    const name = decodeName(member.slice(0, at).trim());
    // The message names the header (or its position), never its value: it may be a token.
    const which = at > 0 && headerName.test(name) ? `header ${name}` : `header ${i + 1}`;
    if (at < 0) {
      fail(
        `${which} has no "=": write name=value pairs joined by ",", for example Authorization=Bearer%20TOKEN`,
      );
      continue;
    }
    if (!headerName.test(name)) {
      fail(`${which} has an empty or invalid name (letters, digits and !#$%&'*+.^_\`|~- only)`);
      continue;
    }
    let value: string;
    try {
      value = decodeURIComponent(member.slice(at + 1).trim());
    } catch {
      fail(`${which} has a malformed percent-encoding (write % as %25)`);
      continue;
    }
    const key = name.toLowerCase();
    // Named by position: `<token>=` (a base64 token pasted alone, its padding read as the "=") parses
    // as a name without a value, and that name is the secret.
    if (value === '')
      fail(
        `header ${i + 1} has no value: write name=value pairs joined by ",", for example Authorization=Bearer%20TOKEN`,
      );
    else if (!headerValue.test(value))
      fail(`${which} has a line break or a character outside visible ASCII in its value`);
    else if (reservedHeaders.has(key)) fail(`${which} is set by the exporter and cannot be overridden`);
    else if (headers.has(key)) fail(`${which} is given twice`);
    else headers.set(key, value);
  }
  return headers;
}

/**
 * Why an endpoint variable's value is no collector URL, or undefined when it is one. The exporter
 * would crash the start on a URL it cannot parse, quoting it (credentials included), and take
 * `collector:4318` or `ftp://…` only to fail every export; the message never repeats the value.
 */
function endpointProblem(text: string, general: boolean): string | undefined {
  const example =
    'write http://<host>:<port> or https://<host>:<port>, for example http://otel-collector:4318';
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    return `is not a URL: ${example}`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `must start with http:// or https://: ${example}`;
  if (u.hostname === '') return `names no host: ${example}`;
  // /v1/traces is appended to the general one: after a query or fragment it would go into it.
  if (general && /[?#]/.test(text)) return `must not have a query (?…) or a fragment (#…): ${example}`;
  return undefined;
}

/** The signal-specific variable if set (non-empty), else the general one. */
function file(env: OtlpConnectionEnv, traces: keyof OtlpConnectionEnv, general: keyof OtlpConnectionEnv) {
  const variable = env[traces] ? traces : env[general] ? general : undefined;
  return variable ? { path: env[variable] as string, variable } : undefined;
}

/** The signal-specific variable if set (non-empty after trimming), else the general one. */
function setting(env: OtlpConnectionEnv, traces: keyof OtlpConnectionEnv, general: keyof OtlpConnectionEnv) {
  for (const variable of [traces, general]) {
    const value = env[variable]?.trim();
    if (value) return { variable, value };
  }
  return undefined;
}

/** OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT: whole milliseconds from 1 to MAX_OTLP_TIMEOUT_MS. */
function timeoutMs(env: OtlpConnectionEnv, problems: Problem[]): number {
  const set = setting(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT');
  if (!set) return DEFAULT_OTLP_TIMEOUT_MS;
  const ms = /^\d+$/.test(set.value) ? Number(set.value) : Number.NaN;
  if (ms >= 1 && ms <= MAX_OTLP_TIMEOUT_MS) return ms;
  problems.push({
    field: set.variable,
    message: `must be a whole number of milliseconds from 1 to ${MAX_OTLP_TIMEOUT_MS} (default ${DEFAULT_OTLP_TIMEOUT_MS})`,
  });
  return DEFAULT_OTLP_TIMEOUT_MS;
}

/** OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION: `gzip` or `none`. */
function compression(env: OtlpConnectionEnv, problems: Problem[]): OtlpCompression {
  const set = setting(env, 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'OTEL_EXPORTER_OTLP_COMPRESSION');
  if (!set) return 'none';
  const value = set.value.toLowerCase();
  if (value === 'gzip' || value === 'none') return value;
  problems.push({ field: set.variable, message: 'must be gzip or none' });
  return 'none';
}

/**
 * The collector's headers and TLS files. OTEL_EXPORTER_OTLP_TRACES_HEADERS is merged over
 * OTEL_EXPORTER_OTLP_HEADERS header by header (its value wins a name both set); each _TRACES_ file
 * variable replaces its general one. A CA or client file needs an https:// traces endpoint. The
 * export timeout and compression, each _TRACES_ form winning over its general one. Throws a
 * ConfigError naming each variable that is wrong.
 */
export function otlpConnection(env: OtlpConnectionEnv): OtlpConnection {
  const problems: Problem[] = [];
  const general = parseHeaders('OTEL_EXPORTER_OTLP_HEADERS', env.OTEL_EXPORTER_OTLP_HEADERS, problems);
  const traces = parseHeaders(
    'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    env.OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    problems,
  );
  const headers = Object.fromEntries([...general, ...traces]);
  if (Object.keys(headers).length > MAX_OTLP_HEADERS)
    problems.push({
      field: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
      message: `with OTEL_EXPORTER_OTLP_HEADERS makes ${Object.keys(headers).length} headers; at most ${MAX_OTLP_HEADERS}`,
    });
  const headersFile = env.HAL9_OTLP_HEADERS_FILE
    ? { path: env.HAL9_OTLP_HEADERS_FILE, variable: 'HAL9_OTLP_HEADERS_FILE' }
    : undefined;
  const ca = file(env, 'OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE', 'OTEL_EXPORTER_OTLP_CERTIFICATE');
  const cert = file(
    env,
    'OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE',
    'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  );
  const key = file(env, 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY', 'OTEL_EXPORTER_OTLP_CLIENT_KEY');
  if (cert && !key)
    problems.push({
      field: 'OTEL_EXPORTER_OTLP_CLIENT_KEY',
      message: `is not set but ${cert.variable} is: a client certificate needs its private key`,
    });
  if (key && !cert)
    problems.push({
      field: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
      message: `is not set but ${key.variable} is: a client key needs its certificate`,
    });
  // Over http:// the exporter drops the CA and the client pair without a word and sends the spans and
  // headers in clear: a file meant to secure the connection must not leave it silently insecure.
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
    : env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? 'OTEL_EXPORTER_OTLP_ENDPOINT'
      : undefined;
  const url = endpoint ? (env[endpoint] as string) : undefined;
  const malformed =
    url === undefined ? undefined : endpointProblem(url, endpoint === 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (endpoint && malformed) problems.push({ field: endpoint, message: malformed });
  if (endpoint && url && !/^https:\/\//i.test(url.trim()))
    for (const f of [ca, cert, key])
      if (f)
        problems.push({
          field: f.variable,
          // The scheme only: the URL may carry credentials.
          message: `is set but ${endpoint} is not https://: over http:// the file is unused and the spans and headers travel unencrypted. Write the endpoint as https://<host>:<port>, or unset ${f.variable}`,
        });
  const timeout = timeoutMs(env, problems);
  const compressed = compression(env, problems);
  protocolProblem(env, problems);
  sampling(env, problems);
  batchProblems(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    headers: Object.freeze(headers),
    timeoutMs: timeout,
    compression: compressed,
    ...(headersFile ? { headersFile } : {}),
    ...(ca ? { ca } : {}),
    ...(cert && key ? { client: { cert, key } } : {}),
  });
}

/**
 * The headers sent with a headers file's `text` (HAL9_OTLP_HEADERS_FILE, the variables' form and
 * rules): the variables' `headers` with the file's over them, name by name, so a token rotated in
 * the file replaces one the variables also set. Throws a ConfigError naming `variable`, never a value.
 */
export function withHeadersFile(
  headers: Readonly<Record<string, string>>,
  variable: string,
  text: string,
): Readonly<Record<string, string>> {
  const problems: Problem[] = [];
  const fromFile = parseHeaders(variable, text, problems);
  if (problems.length === 0 && fromFile.size === 0)
    problems.push({ field: variable, message: 'holds no header: write name=value pairs joined by ","' });
  const merged = { ...headers, ...Object.fromEntries(fromFile) };
  if (problems.length === 0 && Object.keys(merged).length > MAX_OTLP_HEADERS)
    problems.push({
      field: variable,
      message: `with OTEL_EXPORTER_OTLP_[TRACES_]HEADERS makes ${Object.keys(merged).length} headers; at most ${MAX_OTLP_HEADERS}`,
    });
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(merged);
}
