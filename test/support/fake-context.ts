import { Readable } from 'node:stream';
import type { Context, GlobalOptions } from '../../src/context.js';
import type { KubeClient, KubeList, KubeObject } from '../../src/kube/client.js';
import { KubeApiError } from '../../src/kube/errors.js';
import { Output, type OutputFormat } from '../../src/ui/output.js';

/**
 * A Context for running command functions in-process: stdout and stderr captured, no prompts, a fixed clock,
 * and a fake cluster that answers get/list/patch/delete from objects held in memory (with the API server's
 * 404 Status for anything else). It is as small as the commands under test need, not an emulator.
 */

export interface FakeCluster {
  client: KubeClient;
  /** Every request as `VERB path`, in order. */
  requests: string[];
  objects: KubeObject[];
}

const plural = (kind: string) => `${kind.toLowerCase()}s`;

function collectionPaths(object: KubeObject): string[] {
  const [group, version] = object.apiVersion!.includes('/') ? object.apiVersion!.split('/') : ['', object.apiVersion!];
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const resource = plural(object.kind!);
  return object.metadata.namespace ? [`${base}/namespaces/${object.metadata.namespace}/${resource}`, `${base}/${resource}`] : [`${base}/${resource}`];
}

function notFound(path: string): KubeApiError {
  const name = path.split('/').at(-1);
  return new KubeApiError(`${name} not found`, 404, { kind: 'Status', status: 'Failure', reason: 'NotFound', message: `"${name}" not found`, details: { name } });
}

function matchesSelector(object: KubeObject, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=');
    return object.metadata.labels?.[key!] === value;
  });
}

export function fakeCluster(objects: KubeObject[], options: { namespace?: string; served?: string[] } = {}): FakeCluster {
  const requests: string[] = [];
  const served = options.served ?? ['sympoziuminstances', 'agentruns', 'skillpacks', 'sympoziumpolicies'];
  const find = (path: string) => objects.find((object) => collectionPaths(object).some((collection) => `${collection}/${object.metadata.name}` === path));
  const get = async (path: string): Promise<unknown> => {
    requests.push(`GET ${path}`);
    if (path === '/apis/sympozium.ai/v1alpha1') return { kind: 'APIResourceList', resources: served.map((name) => ({ name, namespaced: true })) };
    if (/^\/api\/v1\/namespaces\/[^/]+$/.test(path)) return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: path.split('/').at(-1) } };
    const object = find(path);
    if (!object) throw notFound(path);
    return structuredClone(object);
  };
  const fake: Record<string, unknown> = {
    namespace: options.namespace ?? 'default',
    describe: () => 'the fake cluster',
    close: () => undefined,
    get,
    getOrUndefined: (path: string) => get(path).catch((error: unknown) => (error instanceof KubeApiError && error.code === 404 ? undefined : Promise.reject(error))),
    async list(path: string, query: { labelSelector?: string } = {}): Promise<KubeList> {
      requests.push(`LIST ${path}`);
      const items = objects.filter((object) => collectionPaths(object).includes(path) && matchesSelector(object, query.labelSelector));
      return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '42' }, items: structuredClone(items) };
    },
    async delete(path: string): Promise<unknown> {
      requests.push(`DELETE ${path}`);
      const object = find(path);
      if (!object) throw notFound(path);
      objects.splice(objects.indexOf(object), 1);
      return object;
    },
    async mergePatch(path: string, patch: Record<string, unknown>): Promise<unknown> {
      requests.push(`PATCH ${path}`);
      const object = find(path);
      if (!object) throw notFound(path);
      Object.assign(object, patch);
      return object;
    },
  };
  fake.detached = () => fake;
  // The commands under test use only the methods above; anything else fails loudly as "not a function".
  return { client: fake as unknown as KubeClient, requests, objects };
}

export interface FakeContext {
  ctx: Context;
  stdout: () => string;
  stderr: () => string;
}

export function fakeContext(options: { format?: OutputFormat; template?: string; kube?: FakeCluster; stdin?: string; cwd?: string; env?: NodeJS.ProcessEnv; globals?: Partial<GlobalOptions> } = {}): FakeContext {
  let stdout = '';
  let stderr = '';
  const globals: GlobalOptions = {
    output: options.format ?? 'table',
    outputTemplate: options.template,
    outputExplicit: options.format !== undefined,
    yes: false,
    quiet: false,
    verbose: false,
    color: false,
    ...options.globals,
  };
  const out = new Output({
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    format: globals.output,
    template: globals.outputTemplate,
    color: false,
    yamlStringify: (value) => JSON.stringify(value),
  });
  const ctx: Context = {
    out,
    prompt: {
      confirm: async () => {
        throw new Error('no prompts in command tests');
      },
    } as never,
    globals,
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    stdin: Object.assign(Readable.from([Buffer.from(options.stdin ?? '')]), { isTTY: false }),
    interactive: false,
    now: () => new Date('2026-01-01T00:10:00Z'),
    signal: new AbortController().signal,
    kube: async () => {
      if (!options.kube) throw new Error('this test gives the command no cluster');
      return options.kube.client;
    },
  };
  return { ctx, stdout: () => stdout, stderr: () => stderr };
}

/** A SympoziumInstance as upstream's controller leaves it. */
export function instance(name: string, extra: { labels?: Record<string, string>; phase?: string; namespace?: string } = {}): KubeObject {
  return {
    apiVersion: 'sympozium.ai/v1alpha1',
    kind: 'SympoziumInstance',
    metadata: { name, namespace: extra.namespace ?? 'default', labels: extra.labels, creationTimestamp: '2026-01-01T00:00:00Z', uid: `uid-${name}`, resourceVersion: '7' },
    spec: { agents: { default: { model: 'gpt-4.1' } }, authRefs: [{ provider: 'openai', secret: `${name}-openai-key` }], skills: [{ skillPackRef: 'k8s-ops' }] },
    status: { phase: extra.phase ?? 'Running', activeAgentPods: 0 },
  };
}

/** An AgentRun of `instanceName`, created `minutesAgo` before the fake clock. */
export function agentRun(name: string, instanceName: string, phase: string, minutesAgo: number, extra: { source?: string; tokens?: number } = {}): KubeObject {
  const created = new Date(Date.parse('2026-01-01T00:10:00Z') - minutesAgo * 60_000).toISOString().replace('.000', '');
  return {
    apiVersion: 'sympozium.ai/v1alpha1',
    kind: 'AgentRun',
    metadata: { name, namespace: 'default', creationTimestamp: created, labels: { 'sympozium.ai/instance': instanceName, ...(extra.source ? { 'sympozium.ai/source': extra.source } : {}) } },
    spec: { instanceRef: instanceName, task: `task of ${name}` },
    status: { phase, ...(extra.tokens ? { tokenUsage: { totalTokens: extra.tokens, inputTokens: extra.tokens - 1, outputTokens: 1 } } : {}) },
  };
}
