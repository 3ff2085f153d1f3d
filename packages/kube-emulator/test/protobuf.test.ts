// kubectl's typed generators (`kubectl create secret|configmap|namespace|service|deployment|serviceaccount`) always
// send protobuf. These tests run the real kubectl against a small server that records the bodies, and check that
// decodeKubernetesProtobuf turns each one into exactly the object kubectl itself prints with
// `--dry-run=client -o json` (the JSON a JSON client would have sent).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeKubernetesProtobuf } from '../src/protobuf.js';

const KUBECTL = '/usr/bin/kubectl';
const haveKubectl = existsSync(KUBECTL);
if (!haveKubectl) console.log(`skipping protobuf conformance tests: ${KUBECTL} is not installed`);

type Recorded = { method: string; path: string; contentType: string; body: Buffer };

function runKubectl(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Drops the nulls Go's JSON encoder writes for unset timestamps; the decoder leaves those fields out. */
function withoutNulls(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (v === null ? undefined : v)));
}

describe.skipIf(!haveKubectl)('kubectl create sends protobuf that decodes to the JSON kubectl would send', () => {
  let dir: string;
  let server: http.Server;
  let env: NodeJS.ProcessEnv;
  const recorded: Recorded[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sympozium-protobuf-'));
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = (req.url ?? '/').split('?')[0]!;
        const json = (code: number, body: unknown): void => {
          res.writeHead(code, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (path === '/version') {
          json(200, { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' });
        } else if (req.method === 'POST') {
          const body = Buffer.concat(chunks);
          recorded.push({ method: req.method, path, contentType: String(req.headers['content-type']), body });
          // Answer with the decoded object, as a server would echo what it stored.
          try {
            json(201, decodeKubernetesProtobuf(body));
          } catch (error) {
            json(415, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 415, message: String(error) });
          }
        } else {
          json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    writeFileSync(
      join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: rec`,
        `  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}`,
        'contexts:',
        '- name: rec',
        '  context: {cluster: rec, user: rec, namespace: default}',
        'current-context: rec',
        'users:',
        '- name: rec',
        '  user: {token: unused}',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'blob.bin'), Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7f, 0x0a]));
    env = { KUBECONFIG: join(dir, 'kubeconfig'), KUBECACHEDIR: join(dir, 'cache') };
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cases: { name: string; args: string[]; path: string; printed: string }[] = [
    {
      name: 'secret generic',
      args: ['create', 'secret', 'generic', 's1', '--from-literal=apiKey=sk-123'],
      path: '/api/v1/namespaces/default/secrets',
      printed: 'secret/s1 created',
    },
    {
      name: 'configmap with text and binary files',
      args: ['create', 'configmap', 'c1', '--from-literal=k=v', '--from-literal=empty=', '--from-file=blob.bin'],
      path: '/api/v1/namespaces/default/configmaps',
      printed: 'configmap/c1 created',
    },
    { name: 'namespace', args: ['create', 'namespace', 'n1'], path: '/api/v1/namespaces', printed: 'namespace/n1 created' },
    {
      name: 'service with a named target port',
      args: ['create', 'service', 'nodeport', 'web', '--tcp=81:http', '--node-port=30081'],
      path: '/api/v1/namespaces/default/services',
      printed: 'service/web created',
    },
    {
      name: 'deployment scaled to zero with a command',
      args: ['create', 'deployment', 'web', '--image=busybox', '--port=8080', '--replicas=0', '--', 'sleep', '100'],
      path: '/apis/apps/v1/namespaces/default/deployments',
      printed: 'deployment.apps/web created',
    },
    {
      name: 'serviceaccount',
      args: ['create', 'serviceaccount', 'sa1'],
      path: '/api/v1/namespaces/default/serviceaccounts',
      printed: 'serviceaccount/sa1 created',
    },
  ];

  for (const testCase of cases) {
    it(`kubectl create ${testCase.name}`, async () => {
      const before = recorded.length;
      const created = await runKubectl(testCase.args, env, dir);
      expect(created.stderr).toBe('');
      expect(created.stdout.trim()).toBe(testCase.printed);
      expect(created.code).toBe(0);
      const request = recorded[before]!;
      expect(request.path).toBe(testCase.path);
      expect(request.contentType).toBe('application/vnd.kubernetes.protobuf');

      // What kubectl would have sent as JSON: the same generator, printed instead of sent.
      const dashDash = testCase.args.indexOf('--');
      const flags = ['--dry-run=client', '-o', 'json'];
      const dryArgs =
        dashDash < 0
          ? [...testCase.args, ...flags]
          : [...testCase.args.slice(0, dashDash), ...flags, ...testCase.args.slice(dashDash)];
      const dry = await runKubectl(dryArgs, env, dir);
      expect(dry.code).toBe(0);
      expect(decodeKubernetesProtobuf(request.body)).toEqual(withoutNulls(JSON.parse(dry.stdout)));
    });
  }

  it('a Secret literal arrives as base64 of its bytes, as `kubectl get -o jsonpath` would show it', () => {
    const secret = recorded.find((r) => r.path.endsWith('/secrets'));
    expect(secret).toBeDefined();
    const decoded = decodeKubernetesProtobuf(secret!.body) as { data: Record<string, string> };
    expect(Buffer.from(decoded.data.apiKey!, 'base64').toString('utf8')).toBe('sk-123');
  });
});
