import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { startApiServer, type ApiServer } from '@sympozium/kube-emulator';
import { upstreamCrds, upstreamKind, type Release } from '../../src/sympozium/releases.js';

/**
 * The emulator with one release's CRDs installed exactly as upstream ships them: an API server to ask, with a
 * server-side dry run and strict field validation, whether a document would be accepted. One per release, because
 * both releases serve kinds of the same name with different schemas (AgentRun, SkillPack).
 */
export interface UpstreamCluster {
  release: Release;
  server: ApiServer;
  kubeconfig: string;
  /** The server's verdict on creating the object (dry run, strict field validation): ok, or its message. */
  dryRun(object: Record<string, unknown>): Promise<{ ok: boolean; message: string }>;
  /** `kubectl apply --dry-run=server --validate=strict -f -` over many objects at once: the objects it accepted, as
   * `kind.group/name` (what `-o name` prints). */
  kubectlApply(objects: Record<string, unknown>[]): Promise<{ accepted: Set<string>; output: string }>;
  stop(): Promise<void>;
}

export const kubectlPath = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'kubectl'))
  .find((candidate) => existsSync(candidate));

/** Namespaces upstream's manifests name, created up front so that only the object itself is judged. */
const namespaces = ['sympozium', 'sympozium-system'];

async function request(server: ApiServer, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = { message: text };
  }
  return { status: response.status, json };
}

export async function startUpstreamCluster(release: Release): Promise<UpstreamCluster> {
  const server = await startApiServer();
  const dir = mkdtempSync(join(tmpdir(), `upstream-${release}-`));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, server.kubeconfigYaml());
  for (const crd of upstreamCrds(release)) {
    const created = await request(server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (created.status !== 201) throw new Error(`installing ${release} CRD: ${JSON.stringify(created.json)}`);
  }
  for (const name of namespaces) {
    await request(server, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }
  return {
    release,
    server,
    kubeconfig,
    async dryRun(object) {
      const { apiVersion, kind, metadata } = object as { apiVersion: string; kind: string; metadata?: Record<string, unknown> };
      const entry = upstreamKind(release, apiVersion, kind);
      if (!entry) return { ok: false, message: `${release} does not serve ${apiVersion} ${kind}` };
      // What kubectl does with a document: the namespace it names (else the context's), in the URL.
      const namespace = typeof metadata?.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : 'default';
      const collection = entry.scope === 'Namespaced' ? `namespaces/${encodeURIComponent(namespace)}/${entry.plural}` : entry.plural;
      const path = `/apis/${apiVersion}/${collection}?dryRun=All&fieldValidation=Strict`;
      const { status, json } = await request(server, 'POST', path, object);
      return { ok: status === 201, message: status === 201 ? '' : `${status} ${json?.message ?? ''}` };
    },
    kubectlApply(objects) {
      // A stream of JSON objects (kubectl's decoder reads one after another; `---` is YAML only).
      const input = objects.map((object) => JSON.stringify(object)).join('\n');
      return new Promise((resolve, reject) => {
        const child = execFile(
          kubectlPath ?? 'kubectl',
          ['apply', '--dry-run=server', '--validate=strict', '-o', 'name', '-f', '-'],
          { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache') }, timeout: 30_000, maxBuffer: 16 << 20 },
          (error, stdout, stderr) => {
            if (error && typeof (error as { code?: unknown }).code !== 'number') return reject(error);
            // `-o name` prints kind.group/name per accepted object; errors go to stderr and kubectl goes on.
            const accepted = new Set(stdout.split('\n').filter(Boolean));
            resolve({ accepted, output: stdout + stderr });
          },
        );
        child.stdin!.end(input);
      });
    },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
