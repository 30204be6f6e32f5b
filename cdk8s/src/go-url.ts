// Go's net/url parser (go1.26, the Go of kube-apiserver 1.37), as the CRDs' CEL url() and isURL() see a
// string: isURL is url.ParseRequestURI; url() is ParseRequestURI, then url.Parse, whose fields getScheme,
// getHostname and getPort read. WHATWG's URL, Node's, disagrees with it in both directions: it refuses
// http://256.1.1.1, http://1.2.3.4.5, http://a<b and an IPv6 zone, which Go takes as they are (the CRDs'
// second rule on each URL field refuses those hosts, from the text: spec-rules.ts), and it
// percent-encodes what Go refuses (http://a{b}, http://ho`st, a bad escape such as /p%zz).
//
// Go works on bytes: each function below reads a "byte string", one character per UTF-8 byte, so that
// lengths, the ASCII tests and %-escapes of non-ASCII bytes are Go's.

/** The fields of Go's *url.URL that a CEL rule can read, and Hostname() and Port(). */
export interface GoURL {
  /** Lower-cased, as Go stores it ("" without one). */
  readonly scheme: string;
  /** The rest of a "scheme:rest" URL whose rest does not start with "/" (then there is no host). */
  readonly opaque: string;
  readonly username?: string;
  readonly password?: string;
  /** host[:port], unescaped; an IPv6 literal keeps its brackets ("[fe80::1%en0]:80"). */
  readonly host: string;
  /** url.Hostname(): the host without its port and brackets. */
  readonly hostname: string;
  /** url.Port(): the digits after the host's last ":", or "". */
  readonly port: string;
  readonly path: string;
  readonly rawQuery: string;
  readonly fragment: string;
}

interface Parsed {
  scheme: string;
  opaque: string;
  username?: string;
  password?: string;
  host: string;
  path: string;
  rawQuery: string;
  fragment: string;
}

type Mode = 'host' | 'zone' | 'path' | 'userPassword' | 'fragment';

const toBytes = (s: string): string => {
  let out = '';
  for (const b of new TextEncoder().encode(s)) out += String.fromCharCode(b);
  return out;
};
const fromBytes = (s: string): string => new TextDecoder().decode(Uint8Array.from(s, (c) => c.charCodeAt(0)));

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

// shouldEscape(c, encodeHost) of net/url, which encodeZone shares: what a host may hold unescaped.
// Letters, digits, -_.~, the sub-delims !$&'()*+,;=, ":" of the port, "[" and "]" of an IPv6 literal,
// and < > " (Go lets them through here, and refuses them escaped, being ASCII). Every other byte,
// non-ASCII ones included, is escaped.
const hostByte = /^[A-Za-z0-9\-_.~!$&'()*+,;=:[\]<>"]$/;
const shouldEscapeHost = (c: string): boolean => !hostByte.test(c);

/** net/url's unescape: undefined where Go returns an error. */
function goUnescape(s: string, mode: Mode): string | undefined {
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === '%') {
      if (i + 2 >= s.length || !isHex(s[i + 1]) || !isHex(s[i + 2])) return undefined;
      const seq = s.slice(i, i + 3);
      const v = Number.parseInt(s.slice(i + 1, i + 3), 16);
      // A host %-encodes only non-ASCII bytes, and "%25", the "%" that starts an IPv6 zone (RFC 6874).
      if (mode === 'host' && v < 0x80 && seq !== '%25') return undefined;
      // A zone may escape what a host could hold unescaped, and a space (Windows puts them there).
      if (mode === 'zone' && seq !== '%25' && v !== 0x20 && shouldEscapeHost(String.fromCharCode(v)))
        return undefined;
      i += 3;
    } else {
      if ((mode === 'host' || mode === 'zone') && c.charCodeAt(0) < 0x80 && shouldEscapeHost(c))
        return undefined;
      i++;
    }
  }
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
}

// "" or ":" and digits.
const validOptionalPort = (port: string): boolean => /^(:[0-9]*)?$/.test(port);

/** netip's parseIPv4Fields: four decimal octets, at most 255, without a leading zero. */
function isIPv4(s: string): boolean {
  const fields = s.split('.');
  return fields.length === 4 && fields.every((f) => /^(0|[1-9][0-9]{0,2})$/.test(f) && Number(f) <= 255);
}

/** netip's parseIPv6: eight groups of at most 4 hex digits, one "::", an IPv4 tail, a non-empty zone. */
function isIPv6(input: string): boolean {
  let s = input;
  const z = s.indexOf('%');
  if (z !== -1) {
    if (z === s.length - 1) return false;
    s = s.slice(0, z);
  }
  let ellipsis = -1;
  if (s.startsWith('::')) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === '') return true;
  }
  let i = 0;
  while (i < 16) {
    const digits = /^[0-9A-Fa-f]*/.exec(s)![0];
    if (digits.length > 4) return false;
    if (digits.length === 0) return false;
    if (s[digits.length] === '.') {
      if ((ellipsis < 0 && i !== 12) || i + 4 > 16) return false;
      if (!isIPv4(s)) return false;
      s = '';
      i += 4;
      break;
    }
    i += 2;
    s = s.slice(digits.length);
    if (s === '') break;
    if (s[0] !== ':' || s.length === 1) return false;
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return false;
      ellipsis = i;
      s = s.slice(1);
      if (s === '') break;
    }
  }
  if (s !== '') return false;
  return i < 16 ? ellipsis >= 0 : ellipsis < 0;
}

/** netip.ParseAddr, the kind of address or undefined. */
function parseAddr(s: string): 'v4' | 'v6' | undefined {
  const first = /[.:%]/.exec(s)?.[0];
  if (first === '.') return isIPv4(s) ? 'v4' : undefined;
  if (first === ':') return isIPv6(s) ? 'v6' : undefined;
  return undefined;
}

/** net/url's parseHost: host[:port] of an authority, unescaped. */
function parseHost(scheme: string, host: string): string | undefined {
  const open = host.lastIndexOf('[');
  if (open > 0) return undefined;
  if (open === 0) {
    // An IP-literal (RFC 3986, RFC 6874): "[fe80::1]", "[fe80::1%25en0]", "[fe80::1]:80".
    const close = host.lastIndexOf(']');
    if (close < 0) return undefined;
    const colonPort = host.slice(close + 1);
    if (!validOptionalPort(colonPort)) return undefined;
    const literal = host.slice(1, close);
    const zone = literal.indexOf('%25');
    const address = zone < 0 ? literal : literal.slice(0, zone);
    const hostPart = goUnescape(address, 'host');
    const zonePart = zone < 0 ? '' : goUnescape(literal.slice(zone), 'zone');
    if (hostPart === undefined || zonePart === undefined) return undefined;
    // Only an IPv6 address goes in brackets; an IPv4-mapped one is one.
    if (parseAddr(hostPart + zonePart) !== 'v6') return undefined;
    return `[${hostPart}${zonePart}]${colonPort}`;
  }
  let colon = host.indexOf(':');
  if (colon !== -1) {
    // One colon only in an http(s) host (GODEBUG urlstrictcolons, the default since go1.26); other
    // schemes take a list of hosts and the last colon starts the port.
    const last = host.lastIndexOf(':');
    if (last !== colon && scheme !== 'http' && scheme !== 'https') colon = last;
    if (!validOptionalPort(host.slice(colon))) return undefined;
  }
  return goUnescape(host, 'host');
}

// net/url's validUserinfo: unreserved, sub-delims, ":", "%" and "@".
const validUserinfo = (s: string): boolean => /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(s);

/** net/url's parse: `viaRequest` is ParseRequestURI's (an absolute URL or an absolute path). */
function parse(raw: string, viaRequest: boolean): Parsed | undefined {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return undefined; // "invalid control character in URL"
  }
  if (raw === '' && viaRequest) return undefined;
  const u: Parsed = { scheme: '', opaque: '', host: '', path: '', rawQuery: '', fragment: '' };
  if (raw === '*') return { ...u, path: '*' };
  let rest = raw;
  // getScheme: [a-zA-Z][a-zA-Z0-9+.-]* before the first ":", if that is what precedes it.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*)?:/.exec(raw);
  if (scheme) {
    if (scheme[1] === undefined) return undefined; // "missing protocol scheme"
    u.scheme = scheme[1].toLowerCase();
    rest = raw.slice(scheme[0].length);
  }
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) rest = rest.slice(0, -1);
  else if (rest.includes('?')) {
    u.rawQuery = rest.slice(rest.indexOf('?') + 1);
    rest = rest.slice(0, rest.indexOf('?'));
  }
  if (!rest.startsWith('/')) {
    if (u.scheme !== '') return { ...u, opaque: rest };
    if (viaRequest) return undefined;
    // A relative path's first segment cannot hold a colon.
    if (rest.split('/')[0]!.includes(':')) return undefined;
  }
  if ((u.scheme !== '' || (!viaRequest && !rest.startsWith('///'))) && rest.startsWith('//')) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) [authority, rest] = [authority.slice(0, slash), authority.slice(slash)];
    const at = authority.lastIndexOf('@');
    const host = parseHost(u.scheme, authority.slice(at + 1));
    if (host === undefined) return undefined;
    u.host = host;
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (!validUserinfo(userinfo)) return undefined;
      const colon = userinfo.indexOf(':');
      const username = goUnescape(colon < 0 ? userinfo : userinfo.slice(0, colon), 'userPassword');
      const password = colon < 0 ? undefined : goUnescape(userinfo.slice(colon + 1), 'userPassword');
      if (username === undefined || (colon >= 0 && password === undefined)) return undefined;
      u.username = username;
      if (password !== undefined) u.password = password;
    }
  }
  const path = goUnescape(rest, 'path');
  if (path === undefined) return undefined;
  u.path = path;
  return u;
}

/** url.Parse: a fragment after the first "#", then parse. */
function parseWithFragment(raw: string): Parsed | undefined {
  const hash = raw.indexOf('#');
  const u = parse(hash < 0 ? raw : raw.slice(0, hash), false);
  if (u === undefined || hash < 0) return u;
  const fragment = goUnescape(raw.slice(hash + 1), 'fragment');
  return fragment === undefined ? undefined : { ...u, fragment };
}

/** CEL's isURL(v): whether url.ParseRequestURI takes it. */
export const isGoURL = (v: string): boolean => parse(toBytes(v), true) !== undefined;

/**
 * CEL's url(v), undefined where the apiserver's conversion fails (isURL is false, or url.Parse refuses
 * the fragment): the URL's fields as Go reads them.
 */
export function goURL(v: string): GoURL | undefined {
  const raw = toBytes(v);
  if (parse(raw, true) === undefined) return undefined;
  const u = parseWithFragment(raw);
  if (u === undefined) return undefined;
  // splitHostPort: a port only when the part after the last colon is digits; then the brackets go.
  let hostname = u.host;
  let port = '';
  const colon = hostname.lastIndexOf(':');
  if (colon !== -1 && validOptionalPort(hostname.slice(colon))) {
    port = hostname.slice(colon + 1);
    hostname = hostname.slice(0, colon);
  }
  if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);
  return {
    scheme: fromBytes(u.scheme),
    opaque: fromBytes(u.opaque),
    ...(u.username === undefined ? {} : { username: fromBytes(u.username) }),
    ...(u.password === undefined ? {} : { password: fromBytes(u.password) }),
    host: fromBytes(u.host),
    hostname: fromBytes(hostname),
    port,
    path: fromBytes(u.path),
    rawQuery: fromBytes(u.rawQuery),
    fragment: fromBytes(u.fragment),
  };
}
