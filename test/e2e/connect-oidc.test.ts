import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runBin } from '../support/bin.js';
import { haveOpenssl, makeCerts, type TestCerts } from '../support/exec-fixtures.js';
import { startParityServer, type ParityServer } from '../support/parity-server.js';
import { writeKubeconfig } from '../support/kubeconfig.js';

/**
 * `auth-provider: oidc`, kubectl and the built CLI side by side: a valid id-token is sent as is; an expired one is
 * refreshed at the issuer (our own small OIDC issuer here) and the new tokens written back to the kubeconfig, as
 * kubectl does; an issuer that cannot be reached is named in a credentials error.
 */
const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((path) => existsSync(path));
if (!kubectl) console.log('connect-oidc: kubectl not found, skipping the side-by-side OIDC tests');
if (!haveOpenssl) console.log('connect-oidc: openssl not found (it makes the test certificates), skipping');

const jwt = (exp: number, subject: string) =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'test', sub: subject, exp })).toString('base64url')}.c2ln`;
const hourFromNow = () => Math.floor(Date.now() / 1000) + 3600;
const refreshed = jwt(4102444800, 'refreshed');

let server: ParityServer;
let issuer: http.Server;
let issuerUrl: string;
const grants: string[] = [];
let certs: TestCerts;
let dir: string;
let cases = 0;

function runKubectl(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectl!, ['--cache-dir', join(dir, `cache-${++cases}`), ...args], { encoding: 'utf8', timeout: 15_000 }, (error, _stdout, stderr) =>
      resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

function kubeconfig(name: string, config: Record<string, string>): string {
  const lines = Object.entries(config).map(([key, value]) => `    ${key}: ${JSON.stringify(value)}`);
  return writeKubeconfig(join(dir, name), { server: server.url, ca: certs.ca, user: `auth-provider:\n  name: oidc\n  config:\n${lines.join('\n')}` });
}

/** Each client on its own copy of the same kubeconfig (a refresh rewrites it). */
async function sideBySide(name: string, config: Record<string, string>) {
  server.requests.length = 0;
  grants.length = 0;
  const forKubectl = kubeconfig(`kubectl-${name}`, config);
  const k = await runKubectl(['--kubeconfig', forKubectl, 'get', 'pods', '-n', 'default', '-o', 'name']);
  const kubectlSide = { status: k.status, stderr: k.stderr, sent: server.requests.splice(0).at(-1)?.authorization, grants: grants.splice(0), file: readFileSync(forKubectl, 'utf8') };
  const forCli = kubeconfig(`cli-${name}`, config);
  const c = await runBin(['--kubeconfig', forCli, 'key', 'show', 'demo', '--reveal']);
  const requests = server.requests.splice(0);
  return {
    kubectl: kubectlSide,
    cli: { status: c.code, stderr: c.stderr, sent: requests.at(-1)?.authorization, lastStatus: requests.at(-1)?.status, grants: grants.splice(0), file: readFileSync(forCli, 'utf8') },
  };
}

describe.skipIf(!kubectl || !haveOpenssl)('auth-provider oidc like kubectl', () => {
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'sympozium-oidc-'));
    certs = makeCerts(dir);
    issuer = http.createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ issuer: issuerUrl, token_endpoint: `${issuerUrl}/token`, authorization_endpoint: `${issuerUrl}/auth`, jwks_uri: `${issuerUrl}/keys` }));
      }
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        grants.push(new URLSearchParams(body).get('refresh_token') ?? '');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'at', token_type: 'Bearer', expires_in: 3600, id_token: refreshed, refresh_token: 'rotated-refresh' }));
      });
    });
    await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
    issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
    server = await startParityServer({ tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca }, acceptTokens: [refreshed] });
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => issuer?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends a valid id-token as it is, without asking the issuer', async () => {
    const valid = jwt(hourFromNow(), 'valid');
    const run = await sideBySide('valid.yaml', { 'client-id': 'kube', 'id-token': valid, 'refresh-token': 'r1', 'idp-issuer-url': issuerUrl });
    expect(run.kubectl.sent).toBe(`Bearer ${valid}`);
    expect(run.cli.sent).toBe(run.kubectl.sent);
    expect(run.kubectl.grants).toEqual([]);
    expect(run.cli.grants).toEqual([]);
  });

  it('refreshes an expired id-token at the issuer and writes the new tokens back to the kubeconfig', async () => {
    const run = await sideBySide('expired.yaml', { 'client-id': 'kube', 'client-secret': 's3', 'id-token': jwt(1000, 'old'), 'refresh-token': 'r1', 'idp-issuer-url': issuerUrl });
    expect(run.kubectl.status).toBe(0);
    expect(run.kubectl.sent).toBe(`Bearer ${refreshed}`);
    expect(run.cli.sent).toBe(run.kubectl.sent);
    expect(run.cli.lastStatus).not.toBe(401);
    expect(run.kubectl.grants).toEqual(['r1']);
    expect(run.cli.grants).toEqual(['r1']);
    for (const side of [run.kubectl, run.cli]) {
      expect(side.file).toContain(refreshed);
      expect(side.file).toContain('rotated-refresh');
    }
  });

  it('chat (dist/chat.js, whose kubeconfig writer is dist/vendor/kubeconfig-edit.js) refreshes and writes back too', async () => {
    // An endpoint answering at once, so chat reads its run's details from the cluster with the refreshed token.
    const endpoint = http.createServer((req, res) => {
      req.resume().on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'chatcmpl-demo-web-9', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hi back' }, finish_reason: 'stop' }] }));
      });
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    try {
      server.requests.length = 0;
      grants.length = 0;
      const file = kubeconfig('chat-expired.yaml', { 'client-id': 'kube', 'id-token': jwt(1000, 'old'), 'refresh-token': 'r2', 'idp-issuer-url': issuerUrl });
      const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
      const chat = await runBin(['chat', 'demo', '-m', 'hi', '--no-stream', '--url', url, '--key', 'k'], { env: { KUBECONFIG: file } });
      expect(chat.code, chat.stderr).toBe(0);
      expect(chat.stdout).toBe('hi back\n');
      expect(grants).toEqual(['r2']);
      expect(server.requests.at(-1)?.authorization).toBe(`Bearer ${refreshed}`);
      expect(readFileSync(file, 'utf8')).toContain('rotated-refresh');
    } finally {
      await new Promise((resolve) => endpoint.close(resolve));
    }
  });

  it('says the issuer cannot be reached when an expired id-token cannot be refreshed, never that it is a bug', async () => {
    const run = await sideBySide('unreachable.yaml', { 'client-id': 'kube', 'id-token': jwt(1000, 'old'), 'refresh-token': 'r1-secret', 'idp-issuer-url': 'http://127.0.0.1:1' });
    expect(run.kubectl.status).not.toBe(0);
    expect(run.kubectl.stderr).toContain('127.0.0.1:1');
    expect(run.cli.status).toBe(1);
    expect(run.cli.stderr).toContain('could not get credentials for context "c": the OIDC id-token of user "u" has expired and refreshing it at the issuer http://127.0.0.1:1 failed');
    expect(run.cli.stderr).toMatch(/ECONNREFUSED/);
    expect(run.cli.stderr).not.toMatch(/bug|r1-secret/i);
  });
});
