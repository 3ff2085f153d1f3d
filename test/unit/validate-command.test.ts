import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/commands/validate.js';
import type { Context, GlobalOptions } from '../../src/context.js';
import { CliError } from '../../src/errors.js';
import { createKubeClient } from '../../src/kube/client.js';
import { upstreamCrds } from '../../src/sympozium/releases.js';
import { Output, type OutputFormat } from '../../src/ui/output.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sympozium-validate-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function context(options: { format?: OutputFormat; stdin?: string; kubeconfig?: string } = {}) {
  const printed = { stdout: '', stderr: '' };
  const globals: GlobalOptions = {
    output: options.format ?? 'table',
    outputExplicit: Boolean(options.format),
    yes: false,
    quiet: false,
    verbose: false,
    color: false,
    kubeconfig: options.kubeconfig,
    requestTimeoutMs: 2_000,
  };
  const out = new Output({
    stdout: { write: (text: string) => (printed.stdout += text) },
    stderr: { write: (text: string) => (printed.stderr += text) },
    format: globals.output,
    color: false,
  });
  const ctx: Context = {
    out,
    prompt: undefined as never,
    globals,
    env: {},
    cwd: dir,
    stdin: Readable.from([Buffer.from(options.stdin ?? '')]),
    interactive: false,
    now: () => new Date(0),
    signal: new AbortController().signal,
    kube: async () => createKubeClient({ globals, env: {}, out }),
  };
  return { ctx, printed };
}

const instance = (extra = '') => `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: demo
spec:
  agents:
    default:
      model: gpt-4.1
${extra}`;

writeFileSync(path.join(dir, 'good.yaml'), instance());
writeFileSync(path.join(dir, 'bad.yaml'), instance('  authRefs:\n    - secretName: x\n'));

describe('sympozium validate', () => {
  it('prints nothing on stdout and a summary on stderr when everything is valid', async () => {
    const { ctx, printed } = context();
    await validate({ paths: ['good.yaml'], cluster: false }, ctx);
    expect(printed.stdout).toBe('');
    expect(printed.stderr).toBe('✔ 1 document in 1 file valid (Sympozium release v0.5.8)\n');
  });

  it('lists each problem as file:line:col  path: message and fails with exit code 2', async () => {
    const { ctx, printed } = context();
    const run = validate({ paths: ['good.yaml', 'bad.yaml'], cluster: false }, ctx);
    await expect(run).rejects.toBeInstanceOf(CliError);
    await expect(run).rejects.toMatchObject({ exitCode: 2, message: '2 problems in 1 file (Sympozium release v0.5.8)' });
    expect(printed.stdout).toBe(
      'bad.yaml:10:7  spec.authRefs[0].secret: required\n' +
        'bad.yaml:10:7  spec.authRefs[0].secretName: unknown field "secretName" (did you mean secret?)\n',
    );
  });

  it('gives a machine-readable list with -o json', async () => {
    const { ctx, printed } = context({ format: 'json', stdin: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n' });
    await expect(validate({ paths: ['bad.yaml', '-'], cluster: false }, ctx)).rejects.toMatchObject({ exitCode: 2 });
    expect(JSON.parse(printed.stdout)).toEqual([
      { source: 'bad.yaml', line: 10, column: 7, path: 'spec.authRefs[0].secret', message: 'required', severity: 'error', release: 'v0.5.8' },
      { source: 'bad.yaml', line: 10, column: 7, path: 'spec.authRefs[0].secretName', message: 'unknown field "secretName" (did you mean secret?)', severity: 'error', release: 'v0.5.8' },
      { source: '<stdin>', line: 1, column: 1, path: '', message: 'no bundled schema for apps/v1 Deployment; only apiVersion, kind and metadata were checked', severity: 'note' },
    ]);
  });
});

describe('sympozium validate --cluster', () => {
  let server: Server;
  let kubeconfig: string;
  const requests: string[] = [];
  beforeAll(async () => {
    // A stand-in API server that serves discovery and the CRDs, with one field the bundled schema lacks.
    const crds = upstreamCrds('v0.5.8') as any[];
    const instanceCrd = crds.find((crd) => crd.metadata.name === 'sympoziuminstances.sympozium.ai');
    instanceCrd.spec.versions[0].schema.openAPIV3Schema.properties.spec.required.push('owner');
    instanceCrd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.owner = { type: 'string' };
    server = createServer((request, response) => {
      requests.push(request.url!);
      const send = (code: number, body: unknown) => {
        response.writeHead(code, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.url === '/apis/sympozium.ai/v1alpha1') {
        return send(200, { kind: 'APIResourceList', resources: crds.map((crd) => ({ name: crd.spec.names.plural, kind: crd.spec.names.kind, namespaced: true })) });
      }
      const crd = crds.find((entry) => request.url === `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${entry.metadata.name}`);
      if (crd) return send(200, crd);
      send(404, { kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1\nkind: Config\ncurrent-context: stub\nclusters:\n- name: stub\n  cluster: {server: "http://127.0.0.1:${(server.address() as AddressInfo).port}", insecure-skip-tls-verify: true}\ncontexts:\n- name: stub\n  context: {cluster: stub, user: stub}\nusers:\n- name: stub\n  user: {}\n`,
    );
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("also checks the cluster's CRD schema and reports kinds the cluster does not serve", async () => {
    writeFileSync(path.join(dir, 'mixed.yaml'), `${instance()}---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n`);
    const { ctx, printed } = context({ kubeconfig });
    await expect(validate({ paths: ["mixed.yaml"], cluster: true }, ctx)).rejects.toMatchObject({ exitCode: 2 });
    expect(printed.stdout).toBe(
      'mixed.yaml:6:3  spec.owner: required\n' +
        'mixed.yaml:10:1  note: no bundled schema for example.com/v1 Widget; only apiVersion, kind and metadata were checked\n' +
        'mixed.yaml:10:13  apiVersion: the cluster does not serve example.com/v1\n',
    );
    expect(requests).toContain('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/sympoziuminstances.sympozium.ai');
  });

  it('says clearly when the cluster cannot be reached, after checking offline', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = path.join(dir, 'kubeconfig-unreachable');
    writeFileSync(unreachable, `apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {}\n`);
    const { ctx } = context({ kubeconfig: unreachable });
    const run = validate({ paths: ['good.yaml'], cluster: true }, ctx);
    await expect(run).rejects.toMatchObject({ exitCode: 1, message: expect.stringMatching(/^valid against the bundled schemas, but the cluster could not be checked: /) });
  });
});
