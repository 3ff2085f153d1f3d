import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, checkRequestPath, resourcePath } from '../../src/kube/client.js';
import type { ResolvedKubeConfig } from '../../src/kube/config.js';
import { CliError } from '../../src/errors.js';

/**
 * The kube client's second line of defence: whatever a command passes, no request with an empty, "." or ".."
 * segment leaves, and DELETE, PATCH and PUT never address a collection. A real HTTP server counts what
 * arrives, so "refused" means nothing was sent.
 */

let server: http.Server;
let received: string[] = [];
let client: KubeClient;

beforeAll(async () => {
  server = http.createServer((request, response) => {
    received.push(`${request.method} ${request.url}`);
    if (request.url?.includes('watch=true')) {
      // A proxy that rewrites the stream: the first line is not a watch event.
      response.writeHead(200, { 'content-type': 'application/json' }).end('<html>gateway says hi</html>\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"Status","status":"Success"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const config = { server: `http://127.0.0.1:${port}`, contextName: 'test', namespace: 'default', insecureSkipTlsVerify: true } as ResolvedKubeConfig;
  client = new KubeClient(config, {});
});

afterAll(async () => {
  client?.close();
  await new Promise((resolve) => server.close(resolve));
});

const instances = { group: 'sympozium.ai', version: 'v1alpha1', plural: 'sympoziuminstances' };

describe('resourcePath', () => {
  it('builds object and collection paths', () => {
    expect(resourcePath({ ...instances, namespace: 'team-a', name: 'demo' })).toBe('/apis/sympozium.ai/v1alpha1/namespaces/team-a/sympoziuminstances/demo');
    expect(resourcePath({ ...instances, namespace: 'team-a' })).toBe('/apis/sympozium.ai/v1alpha1/namespaces/team-a/sympoziuminstances');
    expect(resourcePath({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', name: 'system:controller:x' })).toContain('system%3Acontroller%3Ax');
  });

  it.each([
    ['an empty name', { name: '' }],
    ['the name "."', { name: '.' }],
    ['the name ".."', { name: '..' }],
    ['a name with a slash', { name: 'a/b' }],
    ['an empty namespace', { namespace: '' }],
  ])('refuses %s instead of widening the path', (_what, part) => {
    expect(() => resourcePath({ ...instances, namespace: 'default', ...part })).toThrow(CliError);
  });
});

describe('checkRequestPath', () => {
  it.each(['/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/', '/api/v1/namespaces//secrets/x', '/api/v1/namespaces/default/secrets/.', '/api/v1/namespaces/default/secrets/%2e%2e'])(
    'refuses %s for every verb',
    (path) => {
      for (const method of ['GET', 'DELETE', 'PATCH', 'POST']) expect(() => checkRequestPath(method, path)).toThrow(/empty, "\." or "\.\." segment/);
    },
  );

  it.each([
    '/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances',
    '/apis/sympozium.ai/v1alpha1/sympoziuminstances',
    '/api/v1/namespaces/default/secrets',
    '/api/v1/namespaces',
  ])('refuses DELETE, PATCH and PUT of the collection %s but allows reading it', (path) => {
    for (const method of ['DELETE', 'PATCH', 'PUT']) expect(() => checkRequestPath(method, path)).toThrow(/whole collection/);
    expect(() => checkRequestPath('GET', path)).not.toThrow();
    expect(() => checkRequestPath('POST', path)).not.toThrow();
  });

  it('allows writes to one object, a namespace and a subresource', () => {
    expect(() => checkRequestPath('DELETE', '/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/demo')).not.toThrow();
    expect(() => checkRequestPath('DELETE', '/api/v1/namespaces/team-a')).not.toThrow();
    expect(() => checkRequestPath('PATCH', '/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns/r1/status')).not.toThrow();
  });
});

describe('KubeClient', () => {
  it('sends nothing when a DELETE would reach a collection or an empty name', async () => {
    received = [];
    await expect(client.delete('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances')).rejects.toThrow(/whole collection/);
    await expect(client.delete('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/')).rejects.toThrow(/segment/);
    await expect(client.mergePatch('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/.', {})).rejects.toThrow(/segment/);
    await expect(client.delete('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/demo')).resolves.toBeDefined();
    expect(received).toEqual(['DELETE /apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/demo']);
  });

  it('a watch line that is not a watch event is an error naming the server, not a crash', async () => {
    const events = client.watchStream('/api/v1/namespaces/default/configmaps', {});
    const failure = await events.next().then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(CliError);
    expect((failure as CliError).message).toMatch(/^the cluster at http:\/\/127\.0\.0\.1:\d+ sent a watch event that is not a Kubernetes watch event .*gateway says hi/);
  });

  it('refuses a namespace that is not a DNS label, from -n or from the context', () => {
    const config = { server: 'http://127.0.0.1:1', contextName: 'ctx', namespace: 'Team_A', insecureSkipTlsVerify: true } as ResolvedKubeConfig;
    expect(() => new KubeClient(config, {})).toThrow(/namespace "Team_A" \(set by kubeconfig context "ctx"\) is not valid/);
    expect(() => new KubeClient({ ...config, namespace: 'default' }, { namespace: '' })).toThrow(/namespace "" is not valid: must not be empty/);
  });
});
