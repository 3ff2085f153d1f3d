import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderEnv } from '../../src/ui/env-vars.js';
import { mcpServersSnippet, proxyBaseUrl } from '../../src/sympozium/client-env.js';

/** The env lines are meant for eval: a value must come back exactly as it went in, and never run anything. */
describe('renderEnv', () => {
  const hostile = `sk-a'b"c$(touch /tmp/x)\`id\` \\ #;x`;

  it('shell: a POSIX shell reads every value back exactly', () => {
    const script = `${renderEnv({ A: hostile, B: 'https://demo.example.com/v1', C: '' }, 'shell')}printf '%s\\n%s\\n%s' "$A" "$B" "$C"`;
    expect(execFileSync('sh', ['-c', script], { encoding: 'utf8' })).toBe(`${hostile}\nhttps://demo.example.com/v1\n`);
    expect(renderEnv({ B: 'https://demo.example.com/v1' }, 'shell')).toBe('export B=https://demo.example.com/v1\n');
  });

  it('dotenv, fish, powershell and json quote for their readers', () => {
    expect(renderEnv({ K: 'plain' }, 'dotenv')).toBe('K=plain\n');
    expect(renderEnv({ K: 'a "b" #c' }, 'dotenv')).toBe('K="a \\"b\\" #c"\n');
    expect(renderEnv({ K: "it's" }, 'fish')).toBe("set -gx K 'it\\'s'\n");
    expect(renderEnv({ K: "it's" }, 'powershell')).toBe("$env:K = 'it''s'\n");
    expect(JSON.parse(renderEnv({ K: hostile }, 'json'))).toEqual({ K: hostile });
  });

  it('mcpServers: headers only when a key is to be sent; IPv6 addresses bracketed', () => {
    expect(mcpServersSnippet('demo', 'http://127.0.0.1:8080', undefined)).toEqual({ mcpServers: { 'sympozium-demo': { type: 'sse', url: 'http://127.0.0.1:8080/sse' } } });
    expect(proxyBaseUrl('::1', 8080)).toBe('http://[::1]:8080');
  });
});
