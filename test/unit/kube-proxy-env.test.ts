import { describe, expect, it } from 'vitest';
import { maskProxyUrl, parseProxyUrl, proxyFromEnvironment, useProxy } from '../../src/kube/proxy-env.js';

/**
 * The NO_PROXY matcher and the environment's proxy choice against the cases golang.org/x/net/http/httpproxy
 * documents in its own tests (proxy_test.go: UseProxyTests with its noProxy list, and the config cases of
 * ProxyForURL), which is what kubectl does through http.ProxyFromEnvironment.
 */
describe('useProxy (httpproxy UseProxyTests)', () => {
  const noProxy =
    'foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64';
  // [host, whether the proxy is used] for a request to host:80.
  const cases: [string, boolean][] = [
    // Never proxy localhost or loopback.
    ['localhost', false],
    ['127.0.0.1', false],
    ['127.0.0.2', false],
    ['::1', false],
    ['::2', true], // not a loopback address
    ['192.168.1.1', false], // matches exact IPv4
    ['192.168.1.2', true], // ports do not match
    ['192.168.1.3', false], // matches exact IPv4:port
    ['192.168.1.4', true], // no match
    ['10.0.0.2', false], // matches IPv4/CIDR
    ['2001:db8::52:0:1', false], // matches exact IPv6
    ['2001:db8::52:0:2', true], // no match (the entry is for port 443)
    ['2001:db8::52:0:3', false], // matches exact [IPv6]:port
    ['2002:db8:a::123', false], // matches IPv6/CIDR
    ['fe80::424b:c8be:1643:a1b6', true], // no match
    ['barbaz.net', true], // does not match as .barbaz.net
    ['www.barbaz.net', false], // does match as .barbaz.net
    ['foobar.com', false], // does match as foobar.com
    ['www.foobar.com', false], // match because NO_PROXY includes "foobar.com"
    ['foofoobar.com', true], // not a match as a part of foobar.com
    ['baz.com', true], // not a match as a part of barbaz.com
    ['localhost.net', true], // not a match as a suffix of address
    ['local.localhost', true], // not a match as a prefix of address
    ['barbarbaz.net', true], // not a match, wrong domain
    ['wildcard.io', true], // does not match as *.wildcard.io
    ['nested.wildcard.io', false], // match as *.wildcard.io
    ['awildcard.io', true], // not a match because of '*'
  ];
  for (const [host, proxied] of cases) {
    it(`${host}:80 ${proxied ? 'goes through the proxy' : 'is direct'}`, () => {
      expect(useProxy(host, '80', noProxy)).toBe(proxied);
    });
  }

  it('"*" alone, or anywhere in the list, matches everything; empty entries are ignored', () => {
    expect(useProxy('example.com', '443', '*')).toBe(false);
    expect(useProxy('example.com', '443', 'a.test, *')).toBe(false);
    expect(useProxy('example.com', '443', ' , ,')).toBe(true);
    // Upper case and surrounding spaces are the same entry.
    expect(useProxy('www.example.com', '443', ' EXAMPLE.COM ')).toBe(false);
  });
});

describe('proxyFromEnvironment (httpproxy ProxyForURL)', () => {
  const choose = (server: string, env: NodeJS.ProcessEnv) => proxyFromEnvironment(new URL(server), env);

  it('https servers use HTTPS_PROXY only, http servers HTTP_PROXY only', () => {
    const env = { HTTPS_PROXY: 'http://secure.proxy:3128', HTTP_PROXY: 'http://plain.proxy:3128' };
    expect(choose('https://api.example.com', env)?.url.host).toBe('secure.proxy:3128');
    expect(choose('http://api.example.com', env)?.url.host).toBe('plain.proxy:3128');
    expect(choose('https://api.example.com', { HTTP_PROXY: 'http://plain.proxy:3128' })).toBeUndefined();
  });

  it('upper case wins over lower case, and lower case is read when upper case is empty', () => {
    expect(choose('https://api.example.com', { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' })?.source).toBe('HTTPS_PROXY');
    expect(choose('https://api.example.com', { HTTPS_PROXY: '', https_proxy: 'http://lower:2' })?.source).toBe('https_proxy');
    expect(choose('https://api.example.com', { NO_PROXY: '', no_proxy: 'example.com', HTTPS_PROXY: 'http://p:1' })).toBeUndefined();
  });

  it('a value without a scheme is an http:// proxy; socks5 and https proxies keep theirs', () => {
    expect(choose('https://api.example.com', { HTTPS_PROXY: 'cache.corp.example.com:1234' })?.url.href).toBe('http://cache.corp.example.com:1234/');
    expect(choose('https://api.example.com', { HTTPS_PROXY: 'socks5://s:1080' })?.url.protocol).toBe('socks5:');
    expect(choose('https://api.example.com', { HTTPS_PROXY: 'https://p:443' })?.url.protocol).toBe('https:');
  });

  it('NO_PROXY uses the default port of the scheme for host:port entries', () => {
    expect(choose('https://api.example.com', { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'api.example.com:443' })).toBeUndefined();
    expect(choose('https://api.example.com:6443', { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'api.example.com:443' })).toBeDefined();
    expect(choose('https://[2001:db8::1]:6443', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '2001:db8::/32' })).toBeUndefined();
  });

  it('HTTP_PROXY is not used under CGI (REQUEST_METHOD set), as Go refuses it', () => {
    expect(choose('http://api.example.com', { HTTP_PROXY: 'http://p:1', REQUEST_METHOD: 'GET' })).toBeUndefined();
  });
});

describe('proxy-url and masking', () => {
  it('accepts http, https and socks5 and refuses anything else with kubectl\'s words', () => {
    for (const scheme of ['http', 'https', 'socks5']) expect(parseProxyUrl(`${scheme}://p:1`, 'c')).toBeInstanceOf(URL);
    expect(parseProxyUrl('socks5h://p:1', 'c')).toEqual({ error: `invalid 'proxy-url' "socks5h://p:1" for cluster "c": unsupported scheme "socks5h", must be http, https, or socks5` });
  });

  it('masks the password, never the host', () => {
    expect(maskProxyUrl(new URL('http://bob:s3cret@proxy.corp:3128'))).toBe('http://bob:***@proxy.corp:3128');
    expect(maskProxyUrl(new URL('socks5://proxy.corp:1080'))).toBe('socks5://proxy.corp:1080');
  });
});
