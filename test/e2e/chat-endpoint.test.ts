import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { echoPrefix, startLocalControlPlane, type LocalControlPlane } from '../../src/dev/index.js';
import { normalizeBaseUrl } from '../../src/sympozium/endpoint.js';
import { routeBaseUrl } from '../../src/sympozium/public-url.js';
import { ensureBuilt, runBin } from '../support/bin.js';

/**
 * How chat finds an endpoint when the cluster publishes one (status URL from a Gateway), and what it says
 * when there is none to find.
 */

let plane: LocalControlPlane;
let dir: string;
let kubeconfig: string;
let kube: KubeClient;

const path = '/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances';
const instance = (name: string, skills: unknown[]) => ({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'SympoziumInstance',
  metadata: { name, namespace: 'default' },
  spec: { agents: { default: { model: 'gpt-4.1' } }, skills },
});

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-chat-endpoint-'));
  plane = await startLocalControlPlane({ gatewayBaseDomain: 'sympozium.invalid' });
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, plane.kubeconfigYaml());
  kube = createKubeClient({ globals: { kubeconfig }, env: {} });
  await kube.create(path, instance('public', [{ skillPackRef: 'web-endpoint' }]));
  await kube.create(path, instance('plain', []));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    // Upstream never writes status.webEndpoint: the public address is the HTTPRoute's hostname.
    const route = await kube.getOrUndefined<{ spec?: { hostnames?: string[] } }>('/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/public-web-endpoint-web');
    if (route?.spec?.hostnames?.length) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
});

afterAll(async () => {
  kube?.close();
  await plane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const chat = (...args: string[]) => runBin(['chat', ...args], { env: { KUBECONFIG: kubeconfig, HOME: dir, SYMPOZIUM_API_KEY: '' } });

describe('finding the endpoint', () => {
  it("an HTTPRoute hostname that does not resolve from here: says so under --verbose and port-forwards instead", async () => {
    const result = await chat('public', '-m', 'hi', '--no-stream', '--verbose');
    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${echoPrefix} hi\n`);
    expect(result.stderr).toMatch(/endpoint: not using https:\/\/public\.sympozium\.invalid \(HTTPRoute public-web-endpoint-web \(Gateway sympozium-system\/sympozium-gateway[^)]*\)\): the host name does not resolve/);
    expect(result.stderr).toMatch(/endpoint: http:\/\/127\.0\.0\.1:\d+ \(port-forward to service public-web-endpoint-server/);
  });

  it('an instance without the web endpoint: says how to enable it', async () => {
    const result = await chat('plain', '-m', 'hi');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the web endpoint of instance plain is not enabled');
    expect(result.stderr).toContain('sympozium enable web-endpoint plain');
  });

  it('an instance that does not exist: says where it looked', async () => {
    const result = await chat('nosuch', '-m', 'hi');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/instance "nosuch" not found in namespace "default" of context "sympozium-local"/);
  });

  it('a misspelt instance: suggests the closest one', async () => {
    const result = await chat('plian', '-m', 'hi');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Did you mean "plain"?');
  });

  it('--url accepts the base address with or without /v1, and refuses what is not http(s)', async () => {
    expect(normalizeBaseUrl('https://demo.example.com/')).toBe('https://demo.example.com');
    expect(normalizeBaseUrl('https://demo.example.com/v1')).toBe('https://demo.example.com');
    expect(normalizeBaseUrl('http://127.0.0.1:8080/prefix/v1/?x=1')).toBe('http://127.0.0.1:8080/prefix');
    const result = await chat('demo', '-m', 'hi', '--url', 'ftp://demo.example.com', '--key', 'k');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--url must be an http:// or https:// URL');
  });

  it('an HTTPRoute is https unless it attaches only to a plain-HTTP listener or says so', () => {
    expect(routeBaseUrl({ spec: { hostnames: ['*.example.com', 'demo.example.com'] } })).toBe('https://demo.example.com');
    expect(routeBaseUrl({ spec: { hostnames: ['demo.example.com'], parentRefs: [{ sectionName: 'http' }] } })).toBe('http://demo.example.com');
    expect(routeBaseUrl({ spec: { hostnames: ['demo.example.com'], parentRefs: [{ sectionName: 'http' }, { sectionName: 'https' }] } })).toBe('https://demo.example.com');
    expect(routeBaseUrl({ spec: { hostnames: ['demo.example.com'], parentRefs: [{ port: 80 }] } })).toBe('http://demo.example.com');
    // With the parent Gateway at hand, its listeners decide: the HTTPS one, else plain HTTP, with a port only when not the default.
    const gateway = (listeners: { name: string; protocol: string; port: number; hostname?: string }[]) => ({ spec: { listeners } });
    const route = { spec: { hostnames: ['demo.example.com'], parentRefs: [{ name: 'sympozium-gateway', namespace: 'sympozium-system' }] } };
    expect(routeBaseUrl(route, gateway([{ name: 'http', protocol: 'HTTP', port: 80 }]))).toBe('http://demo.example.com');
    expect(routeBaseUrl(route, gateway([{ name: 'http', protocol: 'HTTP', port: 80 }, { name: 'https', protocol: 'HTTPS', port: 8443 }]))).toBe('https://demo.example.com:8443');
    expect(routeBaseUrl(route, gateway([{ name: 'other', protocol: 'HTTPS', port: 443, hostname: 'other.example.com' }, { name: 'http', protocol: 'HTTP', port: 8080, hostname: '*.example.com' }]))).toBe(
      'http://demo.example.com:8080',
    );
    expect(routeBaseUrl({ spec: { hostnames: [] } })).toBeUndefined();
  });
});
