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
    // kubectl connects to a plain http server (e.g. `kubectl proxy`); the client sends no credentials there.
    expect(loadKubeConfig({ kubeconfig: file('d.yaml', config({ server: 'http://127.0.0.1:8080' })), env: {} }).server).toBe('http://127.0.0.1:8080');
  });

  it('KUBECONFIG merges files like kubectl: the first to define a name or a current context wins', () => {
    const first = file('f1.yaml', config({ current: 'dev' }));
    const second = file('f2.yaml', config({ current: 'prod', user: '    token: other' }));
    const loaded = loadKubeConfig({ env: { KUBECONFIG: [first, join(dir, 'missing.yaml'), second].join(delimiter) } });
    expect(loaded).toMatchObject({ contextName: 'dev', token: 'abc' });
  });

  it('an exec plugin is ours to run, not client-node\'s; a relative command is the kubeconfig directory\'s', () => {
    const loaded = loadKubeConfig({ kubeconfig: file('g.yaml', config({ user: '    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n      interactiveMode: Never' })), env: {} });
    expect(loaded.authProvider).toBeUndefined();
    expect(loaded.exec).toMatchObject({ command: 'aws', resolvedCommand: 'aws', interactiveMode: 'Never', provideClusterInfo: false });
    const relative = loadKubeConfig({ kubeconfig: file('g2.yaml', config({ user: '    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ./bin/plugin' })), env: {} });
    expect(relative.exec).toMatchObject({ resolvedCommand: join(dir, 'bin/plugin'), interactiveMode: 'IfAvailable' });
  });

  it('no kubeconfig at all says where it looked and how to get one', () => {
    expect(() => loadKubeConfig({ env: { HOME: join(dir, 'nohome') } })).toThrow(/no kubeconfig found/);
  });
});

describe('kubectl parity', () => {
  const plain = (user: string, cluster = '    server: https://k.example.com') => `apiVersion: v1
kind: Config
current-context: c
clusters:
- name: c
  cluster:
${cluster}
contexts:
- name: c
  context: {cluster: c, user: u}
users:
- name: u
  user:
${user}
`;

  it('reads impersonation from the user, with each --as flag replacing its own field', () => {
    const path = file('imp.yaml', plain('    token: t\n    as: alice\n    as-groups: [devs]\n    as-uid: "42"\n    as-user-extra:\n      scopes.example.com/x: [a, b]'));
    expect(loadKubeConfig({ kubeconfig: path, env: {} }).impersonate).toEqual({ user: 'alice', uid: '42', groups: ['devs'], extra: { 'scopes.example.com/x': ['a', 'b'] } });
    expect(loadKubeConfig({ kubeconfig: path, as: 'bob', asGroups: ['ops', 'sre'], env: {} }).impersonate).toMatchObject({ user: 'bob', uid: '42', groups: ['ops', 'sre'] });
  });

  it('refuses groups without a user to impersonate, with kubectl\'s message', () => {
    const path = file('imp2.yaml', plain('    token: t'));
    expect(() => loadKubeConfig({ kubeconfig: path, asGroups: ['g'], env: {} })).toThrow('requesting uid, groups or user-extra for u without impersonating a user');
  });

  it('prefers tokenFile over token and a token over exec, and reads YAML 1.1 booleans', () => {
    const both = loadKubeConfig({ kubeconfig: file('tf.yaml', plain('    token: inline\n    tokenFile: tok')), env: {} });
    expect(both.token).toBeUndefined();
    expect(both.tokenFile).toBe(join(dir, 'tok'));
    const exec = loadKubeConfig({ kubeconfig: file('te.yaml', plain('    token: t\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: x, interactiveMode: Never}')), env: {} });
    expect(exec.exec).toBeUndefined();
    expect(loadKubeConfig({ kubeconfig: file('yes.yaml', plain('    token: t', '    server: https://k.example.com\n    insecure-skip-tls-verify: yes')), env: {} }).insecureSkipTlsVerify).toBe(true);
  });

  it('lets a later duplicate key win instead of rejecting the file', () => {
    const text = plain('    token: first\n    token: second');
    expect(loadKubeConfig({ kubeconfig: file('dup.yaml', text), env: {} }).token).toBe('second');
  });

  it('refuses what kubectl refuses, with its reason and exit 2', () => {
    expect(() => loadKubeConfig({ kubeconfig: file('tb.yaml', plain('    token: t\n    username: a\n    password: b')), env: {} })).toThrow(/more than one authentication method found for u; found \[token basicAuth\], only one is allowed/);
    const caInsecure = plain('    token: t', '    server: https://k.example.com\n    insecure-skip-tls-verify: true\n    certificate-authority-data: Q0E=');
    expect(() => loadKubeConfig({ kubeconfig: file('ci.yaml', caInsecure), env: {} })).toThrow(/root certificates file with the insecure flag/);
    expect(() => loadKubeConfig({ kubeconfig: file('nokey.yaml', plain('    client-certificate-data: Q0E=')), env: {} })).toThrow(/client-key-data or client-key must be specified for u to use the clientCert authentication method/);
  });

  it('adds http:// to a bare server address as kubectl v1.32 does, with TLS material or without', () => {
    expect(loadKubeConfig({ kubeconfig: file('bare.yaml', plain('    token: t', '    server: 127.0.0.1:8001')), env: {} }).server).toBe('http://127.0.0.1:8001');
    const withCa = loadKubeConfig({ kubeconfig: file('bare-ca.yaml', plain('    token: t', '    server: 127.0.0.1:6443\n    certificate-authority-data: Q0E=')), env: {} });
    expect(withCa.server).toBe('http://127.0.0.1:6443');
    expect(withCa.serverWithoutScheme).toBe('127.0.0.1:6443');
  });
});
