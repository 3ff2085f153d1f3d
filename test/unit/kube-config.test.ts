import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/kube/config.js';

let dir: string;
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const config = (options: { server?: string; insecure?: boolean; namespace?: string; current?: string; user?: string } = {}) => `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: ${options.server ?? 'https://prod.example.com:6443'}
${options.insecure ? '    insecure-skip-tls-verify: true\n' : ''}    certificate-authority: ca.crt
- name: dev
  cluster:
    server: https://dev.example.com
contexts:
- name: prod
  context: {cluster: prod, user: admin${options.namespace ? `, namespace: ${options.namespace}` : ''}}
- name: dev
  context: {cluster: dev, user: admin}
current-context: ${options.current ?? 'prod'}
users:
- name: admin
  user:
${options.user ?? '    token: abc'}
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sympozium-kubeconfig-'));
  file('ca.crt', 'CA');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadKubeConfig', () => {
  it("uses the current context, its namespace, and files relative to the kubeconfig's directory", () => {
    const path = file('a.yaml', config({ namespace: 'agents' }));
    const loaded = loadKubeConfig({ kubeconfig: path, env: {} });
    expect(loaded).toMatchObject({ contextName: 'prod', server: 'https://prod.example.com:6443', namespace: 'agents', namespaceFromContext: true, token: 'abc' });
    expect(loaded.ca?.toString()).toBe('CA');
  });

  it('--context switches cluster; a context without a namespace means "default"', () => {
    const loaded = loadKubeConfig({ kubeconfig: file('b.yaml', config()), context: 'dev', env: {} });
    expect(loaded).toMatchObject({ contextName: 'dev', server: 'https://dev.example.com', namespace: 'default', namespaceFromContext: false });
  });

  it('a context that does not exist names the ones that do', () => {
    expect(() => loadKubeConfig({ kubeconfig: file('c.yaml', config()), context: 'staging', env: {} })).toThrow(/context "staging" is not in the kubeconfig/);
    try {
      loadKubeConfig({ kubeconfig: file('c.yaml', config()), context: 'staging', env: {} });
    } catch (error) {
      expect((error as { hint?: string }).hint).toContain('Known contexts: prod, dev');
    }
  });

  it('plain http only where the kubeconfig says insecure-skip-tls-verify', () => {
    expect(() => loadKubeConfig({ kubeconfig: file('d.yaml', config({ server: 'http://127.0.0.1:8080' })), env: {} })).toThrow(/plain http:\/\/ but the kubeconfig does not set insecure-skip-tls-verify/);
    expect(loadKubeConfig({ kubeconfig: file('e.yaml', config({ server: 'http://127.0.0.1:8080', insecure: true })), env: {} }).insecureSkipTlsVerify).toBe(true);
  });

  it('KUBECONFIG merges files like kubectl: the first to define a name or a current context wins', () => {
    const first = file('f1.yaml', config({ current: 'dev' }));
    const second = file('f2.yaml', config({ current: 'prod', user: '    token: other' }));
    const loaded = loadKubeConfig({ env: { KUBECONFIG: [first, join(dir, 'missing.yaml'), second].join(delimiter) } });
    expect(loaded).toMatchObject({ contextName: 'dev', token: 'abc' });
  });

  it('an exec plugin is handed to client-node', () => {
    const loaded = loadKubeConfig({ kubeconfig: file('g.yaml', config({ user: '    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws' })), env: {} });
    expect(loaded.needsClientNode).toBe(true);
  });

  it('no kubeconfig at all says where it looked and how to get one', () => {
    expect(() => loadKubeConfig({ env: { HOME: join(dir, 'nohome') } })).toThrow(/no kubeconfig found/);
  });
});
