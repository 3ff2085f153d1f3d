import { startLocalControlPlane, type LocalControlPlaneOptions } from '../../src/dev/index.js';

/**
 * Test helpers for the local control plane: plain HTTP against its API server (what any client sees), and a
 * polling wait for the asynchronous controller. Each test file starts its own plane on a random port.
 */

export type Plane = Awaited<ReturnType<typeof startLocalControlPlane>>;

export async function startPlane(options: LocalControlPlaneOptions = {}): Promise<Plane & { api: Api; logs: string[] }> {
  const logs: string[] = [];
  const plane = await startLocalControlPlane({ timings: 'fast', log: (line) => logs.push(line), ...options });
  return Object.assign(plane, { api: new Api(plane.url, plane.apiServer.token), logs });
}

export const paths = {
  instances: (ns = 'default', name?: string) => `/apis/sympozium.ai/v1alpha1/namespaces/${ns}/sympoziuminstances${name ? `/${name}` : ''}`,
  runs: (ns = 'default', name?: string) => `/apis/sympozium.ai/v1alpha1/namespaces/${ns}/agentruns${name ? `/${name}` : ''}`,
  secrets: (ns = 'default', name?: string) => `/api/v1/namespaces/${ns}/secrets${name ? `/${name}` : ''}`,
  services: (ns = 'default', name?: string) => `/api/v1/namespaces/${ns}/services${name ? `/${name}` : ''}`,
  pods: (ns = 'default') => `/api/v1/namespaces/${ns}/pods`,
  deployments: (ns = 'default', name?: string) => `/apis/apps/v1/namespaces/${ns}/deployments${name ? `/${name}` : ''}`,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = any;

export class Api {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: Obj }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'Content-Type': contentType }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: Obj = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed };
  }

  async get(path: string): Promise<Obj | undefined> {
    const { status, body } = await this.request('GET', path);
    if (status === 404) return undefined;
    if (status >= 400) throw new Error(`GET ${path}: ${status} ${JSON.stringify(body)}`);
    return body;
  }

  async create(path: string, body: unknown): Promise<Obj> {
    const response = await this.request('POST', path, body);
    if (response.status >= 400) throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async patch(path: string, patch: unknown): Promise<Obj> {
    const response = await this.request('PATCH', path, patch, 'application/merge-patch+json');
    if (response.status >= 400) throw new Error(`PATCH ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async delete(path: string): Promise<number> {
    return (await this.request('DELETE', path)).status;
  }

  async list(path: string, labelSelector?: string): Promise<Obj[]> {
    const query = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
    return (await this.get(`${path}${query}`)).items;
  }

  async apiKey(instance: string, ns = 'default'): Promise<string> {
    const secret = await waitFor(() => this.get(paths.secrets(ns, `${instance}-web-proxy-key`)), `key Secret of ${instance}`);
    return Buffer.from(secret.data['api-key'], 'base64').toString('utf8');
  }
}

/** Polls until `probe` returns something truthy; fails with `what` after the timeout. */
export async function waitFor<T>(probe: () => Promise<T | undefined | false | null> | T | undefined | false | null, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function instanceManifest(name: string, spec: Obj = {}): Obj {
  return {
    apiVersion: 'sympozium.ai/v1alpha1',
    kind: 'SympoziumInstance',
    metadata: { name },
    spec: { agents: { default: { model: 'gpt-4.1' } }, ...spec },
  };
}

/** The instance collection of the plane's release: SympoziumInstance at v0.5.8, Agent at v0.10.46. */
function releaseInstances(plane: Plane, ns = 'default', name?: string): string {
  const plural = plane.release === 'v0.10.46' ? 'agents' : 'sympoziuminstances';
  return `/apis/sympozium.ai/v1alpha1/namespaces/${ns}/${plural}${name ? `/${name}` : ''}`;
}

/** Creates an instance with the web endpoint on and waits until it serves; returns the proxy's base URL and key. */
export async function servingInstance(plane: Plane & { api: Api }, name: string, spec: Obj = {}, params?: Record<string, string>): Promise<{ baseURL: string; key: string }> {
  const manifest = instanceManifest(name, { skills: [{ skillPackRef: 'web-endpoint', ...(params ? { params } : {}) }], ...spec });
  if (plane.release === 'v0.10.46') manifest.kind = 'Agent';
  await plane.api.create(releaseInstances(plane), manifest);
  await waitFor(async () => (await plane.api.get(releaseInstances(plane, 'default', name)))?.status?.phase === 'Serving', `${name} Serving`);
  // Serving comes with the server run; the proxy process (its key, its token bucket) starts with the pod.
  await waitFor(async () => ((await plane.api.list(paths.deployments(), `sympozium.ai/instance=${name}`))[0]?.status?.readyReplicas ?? 0) >= 1, `${name}'s proxy pod ready`);
  const port = plane.proxyPort('default', name);
  if (!port) throw new Error(`no proxy port for ${name}`);
  return { baseURL: `http://127.0.0.1:${port}/v1`, key: await plane.api.apiKey(name) };
}

/** Records the distinct values of status.phase of one object as a watch delivers them, until stopped. */
export function recordPhases(api: Api, collectionPath: string, name: string): { phases: string[]; stop(): void } {
  const phases: string[] = [];
  const abort = new AbortController();
  void (async () => {
    try {
      const response = await fetch(`${api.url}${collectionPath}?watch=true&fieldSelector=metadata.name%3D${name}`, {
        headers: { Authorization: `Bearer ${api.token}` },
        signal: abort.signal,
      });
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(bytes, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (!line.trim()) continue;
          const phase = JSON.parse(line).object?.status?.phase;
          if (phase && phases.at(-1) !== phase) phases.push(phase);
        }
      }
    } catch {
      // stopped
    }
  })();
  return { phases, stop: () => abort.abort() };
}
