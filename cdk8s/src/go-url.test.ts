import { describe, expect, it } from 'vitest';
import { goURL, isGoURL } from './go-url.ts';

type Fields = { scheme: string; host: string; hostname: string; port: string };

// What Go's url.ParseRequestURI then url.Parse (go1.26, as CEL's url() in kube-apiserver 1.37) make of
// each string: undefined where either fails. Every row was checked against Go's own net/url.
const table: readonly (readonly [string, Fields | undefined])[] = [
  // Where WHATWG's URL parser and Go's disagree, found by comparing synth with the apiserver:
  // Go refuses bad %-escapes (WHATWG keeps them as they are) and {, }, ` in a host (WHATWG escapes them) …
  ['http://host/p%zz', undefined],
  ['http://host/%', undefined],
  ['http://host/a%2', undefined],
  ['http://a{b}', undefined],
  ['http://ho`st', undefined],
  // … and takes what is no IPv4 address as a name, an IPv6 zone and < in a host (WHATWG refuses them).
  ['http://1.2.3.4.5', { scheme: 'http', host: '1.2.3.4.5', hostname: '1.2.3.4.5', port: '' }],
  ['http://256.1.1.1', { scheme: 'http', host: '256.1.1.1', hostname: '256.1.1.1', port: '' }],
  ['http://[fe80::1%25en0]', { scheme: 'http', host: '[fe80::1%en0]', hostname: 'fe80::1%en0', port: '' }],
  ['http://a<b', { scheme: 'http', host: 'a<b', hostname: 'a<b', port: '' }],
  // Ports: digits only; the rules bound them, Go does not.
  ['http://host:99999', { scheme: 'http', host: 'host:99999', hostname: 'host', port: '99999' }],
  ['http://host:65535', { scheme: 'http', host: 'host:65535', hostname: 'host', port: '65535' }],
  ['http://host:65536', { scheme: 'http', host: 'host:65536', hostname: 'host', port: '65536' }],
  ['http://host:', { scheme: 'http', host: 'host:', hostname: 'host', port: '' }],
  ['http://host:0', { scheme: 'http', host: 'host:0', hostname: 'host', port: '0' }],
  ['http://host:080', { scheme: 'http', host: 'host:080', hostname: 'host', port: '080' }],
  ['http://host:8080abc', undefined],
  ['http://host:+80', undefined],
  ['http://:80', { scheme: 'http', host: ':80', hostname: '', port: '80' }],
  // Ordinary URLs; the scheme is lower-cased, the host kept as written.
  [
    'http://otel-collector.observability:4318',
    {
      scheme: 'http',
      host: 'otel-collector.observability:4318',
      hostname: 'otel-collector.observability',
      port: '4318',
    },
  ],
  [
    'https://api.example.com/v1',
    { scheme: 'https', host: 'api.example.com', hostname: 'api.example.com', port: '' },
  ],
  ['HTTP://Host:80/x', { scheme: 'http', host: 'Host:80', hostname: 'Host', port: '80' }],
  ['http://u:p@host:9090/', { scheme: 'http', host: 'host:9090', hostname: 'host', port: '9090' }],
  // Userinfo: its characters and %-escapes are checked.
  ['http://u%zz@host', undefined],
  ['http://u%41:p%2@host', undefined],
  ['http://u%41@host', { scheme: 'http', host: 'host', hostname: 'host', port: '' }],
  ['http://user name@host', undefined],
  // No host: an empty authority, none at all (opaque, or a path), a relative reference.
  ['http://', { scheme: 'http', host: '', hostname: '', port: '' }],
  ['http:///host', { scheme: 'http', host: '', hostname: '', port: '' }],
  ['http:host', { scheme: 'http', host: '', hostname: '', port: '' }],
  ['http:/host', { scheme: 'http', host: '', hostname: '', port: '' }],
  ['//host', { scheme: '', host: 'host', hostname: 'host', port: '' }],
  ['/path', { scheme: '', host: '', hostname: '', port: '' }],
  ['host', undefined],
  ['ftp://host', { scheme: 'ftp', host: 'host', hostname: 'host', port: '' }],
  ['h://x', { scheme: 'h', host: 'x', hostname: 'x', port: '' }],
  // Host characters: net/url's shouldEscape(c, encodeHost); %-escapes only of non-ASCII bytes, and %25.
  ['http://exa_mple.com', { scheme: 'http', host: 'exa_mple.com', hostname: 'exa_mple.com', port: '' }],
  ['http://a"b', { scheme: 'http', host: 'a"b', hostname: 'a"b', port: '' }],
  ['http://a|b', undefined],
  ['http://a^b', undefined],
  ['http://a%20b', undefined],
  ['http://a%C3%A9', { scheme: 'http', host: 'aé', hostname: 'aé', port: '' }],
  ['http://a%c3b', { scheme: 'http', host: 'a\ufffdb', hostname: 'a\ufffdb', port: '' }],
  ['http://h%25', { scheme: 'http', host: 'h%', hostname: 'h%', port: '' }],
  ['http://aé', { scheme: 'http', host: 'aé', hostname: 'aé', port: '' }],
  ['http://a b', undefined],
  ['http://host\\x', undefined],
  ['http://host/a\\b', { scheme: 'http', host: 'host', hostname: 'host', port: '' }],
  ['http://host/path with', { scheme: 'http', host: 'host', hostname: 'host', port: '' }],
  ['http://a..b', { scheme: 'http', host: 'a..b', hostname: 'a..b', port: '' }],
  ['http://-a', { scheme: 'http', host: '-a', hostname: '-a', port: '' }],
  ['http://0x7f.1', { scheme: 'http', host: '0x7f.1', hostname: '0x7f.1', port: '' }],
  ['http://ho!st', { scheme: 'http', host: 'ho!st', hostname: 'ho!st', port: '' }],
  ['http://h[o]', undefined],
  ['http://a]b', { scheme: 'http', host: 'a]b', hostname: 'a]b', port: '' }],
  // IPv6 literals (netip.ParseAddr), with a zone after %25 that may escape a space but not a {.
  ['http://[::1]:8080', { scheme: 'http', host: '[::1]:8080', hostname: '::1', port: '8080' }],
  ['http://[::1]', { scheme: 'http', host: '[::1]', hostname: '::1', port: '' }],
  ['http://[::1', undefined],
  ['http://[::1]x', undefined],
  ['http://[::1]:8a', undefined],
  ['http://[1.2.3.4]', undefined],
  [
    'http://[::ffff:1.2.3.4]',
    { scheme: 'http', host: '[::ffff:1.2.3.4]', hostname: '::ffff:1.2.3.4', port: '' },
  ],
  ['http://[fe80::1%25]', undefined],
  ['http://[fe80::1%en0]', undefined],
  ['http://[fe80::1%25en%30]', { scheme: 'http', host: '[fe80::1%en0]', hostname: 'fe80::1%en0', port: '' }],
  ['http://[fe80::1%25a%20b]', { scheme: 'http', host: '[fe80::1%a b]', hostname: 'fe80::1%a b', port: '' }],
  ['http://[fe80::1%25a%7bb]', undefined],
  ['http://[fe80::1%25a{b]', undefined],
  ['http://[1::2::3]', undefined],
  ['http://[12345::1]', undefined],
  [
    'http://[1:2:3:4:5:6:7:8]',
    { scheme: 'http', host: '[1:2:3:4:5:6:7:8]', hostname: '1:2:3:4:5:6:7:8', port: '' },
  ],
  ['http://[1:2:3:4:5:6:7:8:9]', undefined],
  ['http://[::]', { scheme: 'http', host: '[::]', hostname: '::', port: '' }],
  ['http://x[::1]', undefined],
  // An http(s) host has one colon at most (GODEBUG urlstrictcolons, on since go1.26); other schemes
  // list hosts there, and the last colon starts the port.
  ['http://a:b:80', undefined],
  ['foo://a:b:80', { scheme: 'foo', host: 'a:b:80', hostname: 'a:b', port: '80' }],
  // Path, query and fragment: only the %-escapes of the path and fragment are checked (ParseRequestURI
  // reads a # as part of the host or path); control bytes never pass.
  ['http://host/p%41', { scheme: 'http', host: 'host', hostname: 'host', port: '' }],
  ['http://host#frag', undefined],
  ['http://host/#%zz', undefined],
  ['http://host/?q=%zz', { scheme: 'http', host: 'host', hostname: 'host', port: '' }],
  ['http://host?', { scheme: 'http', host: 'host', hostname: 'host', port: '' }],
  ['http://host\tx', undefined],
  ['http://host/\u007fx', undefined],
  [':x', undefined],
  ['*', { scheme: '', host: '', hostname: '', port: '' }],
  ['http://host/#a?%zz', undefined],
];

describe('goURL', () => {
  it.each(table)('reads %j as Go does', (v, fields) => {
    const u = goURL(v);
    if (fields === undefined) expect(u).toBeUndefined();
    else expect(u && { scheme: u.scheme, host: u.host, hostname: u.hostname, port: u.port }).toEqual(fields);
  });

  it('is isURL where url() fails only on the fragment (after a ?, which ParseRequestURI reads as the query)', () => {
    expect(isGoURL('http://host/#a?%zz')).toBe(true);
    expect(goURL('http://host/#a?%zz')).toBeUndefined();
    expect(isGoURL('http://host/p%zz')).toBe(false);
  });

  it('unescapes the userinfo, path and zone, and splits off the query and fragment', () => {
    expect(goURL('https://u%41:p%2Fw@[fe80::1%25en%30]:8443/a%20b?x=1#f%21')).toEqual({
      scheme: 'https',
      opaque: '',
      username: 'uA',
      password: 'p/w',
      host: '[fe80::1%en0]:8443',
      hostname: 'fe80::1%en0',
      port: '8443',
      path: '/a b',
      rawQuery: 'x=1',
      fragment: 'f!',
    });
    expect(goURL('http:host')).toMatchObject({ opaque: 'host', host: '', hostname: '' });
  });
});
