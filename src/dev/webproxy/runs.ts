import { createHash, randomUUID } from 'node:crypto';
import type { KubeClient } from '../../kube/client.js';
import { apiVersion, labels, names, sources, type AgentRun, type SympoziumInstance } from '../../sympozium/types.js';
import { isWebEndpointSkill } from '../../sympozium/web-endpoint.js';
import type { RunStreams } from '../providers/streams.js';
import type { Informer } from '../controller/informer.js';
import type { ReleaseProfile } from '../controller/release-profile.js';
import { pathOf } from '../controller/resources.js';

/**
 * How the proxy turns a request into a task AgentRun and waits for it: the run is created through the API (so
 * `kubectl get agentruns` and `sympozium runs` see it like any other) and its end is observed through the shared
 * AgentRun watch, exactly as upstream's web-proxy sidecar does.
 */

export interface RunRequest {
  namespace: string;
  instance: string;
  source: 'web' | 'mcp';
  task: string;
  /** System messages of the request, joined after the instance's memory.systemPrompt. */
  systemMessages: string[];
  timeout: string;
  /** The Idempotency-Key header: on v0.10 it decides the request hash, on v0.5.8 nothing. */
  idempotency?: { key: string };
}

/** v0.10 webDedupeWindow. */
const dedupeWindowMs = 15 * 60_000;

const requestHashLabel = 'sympozium.ai/request-hash';

/** v0.10 webRequestHash: 16 hex characters of a SHA-256 of the Idempotency-Key, else of the request itself. */
function webRequestHash(idempotencyKey: string | undefined, instance: string, model: string, systemPrompt: string, task: string): string {
  const key = idempotencyKey?.trim();
  const value = key ? `idempotency-key\x00${instance}\x00${key}` : ['web-chat', instance, model, systemPrompt, task].join('\x00');
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

export class RunBroker {
  constructor(
    private readonly client: KubeClient,
    private readonly runs: Informer<AgentRun>,
    private readonly instances: Informer<SympoziumInstance>,
    readonly streams: RunStreams,
    private readonly profile: ReleaseProfile,
  ) {}

  instance(namespace: string, name: string): SympoziumInstance | undefined {
    return this.instances.get(namespace, name);
  }

  /**
   * Creates the run, or on v0.10 reuses an unfinished recent one with the same request hash (which the
   * Idempotency-Key decides when sent). v0.5.8's proxy has neither: every request is a new run.
   */
  async create(request: RunRequest): Promise<{ name: string; reused: boolean }> {
    const instance = this.instances.get(request.namespace, request.instance);
    const spec = instance?.spec;
    const systemPrompt = [spec?.memory?.systemPrompt, ...request.systemMessages].filter((part) => part && part.trim()).join('\n\n');
    const authRef = spec?.authRefs?.[0];
    const model = spec?.agents?.default?.model ?? 'unknown';
    let requestHash: string | undefined;
    if (this.profile.webProxyV010 && request.source === 'web') {
      requestHash = webRequestHash(request.idempotency?.key, request.instance, model, systemPrompt, request.task);
      const reusable = this.recentRun(request.namespace, request.instance, requestHash);
      if (reusable) return { name: reusable.metadata.name, reused: true };
    }
    const defaults = (spec?.agents?.default ?? {}) as Record<string, unknown>;
    const inherited = this.profile.webProxyV010
      ? Object.fromEntries(
          Object.entries({ imagePullSecrets: (spec as Record<string, unknown> | undefined)?.imagePullSecrets, lifecycle: defaults.lifecycle, env: defaults.env }).filter(
            ([, value]) => value !== undefined && value !== null,
          ),
        )
      : {};
    const body = {
      apiVersion,
      kind: 'AgentRun',
      metadata: {
        generateName: request.source === 'mcp' ? names.mcpRunPrefix(request.instance) : names.chatRunPrefix(request.instance),
        namespace: request.namespace,
        labels: { [labels.instance]: request.instance, [labels.source]: sources.webProxy, ...(requestHash ? { [requestHashLabel]: requestHash } : {}) },
      },
      spec: {
        [this.profile.runRef]: request.instance,
        agentId: 'primary',
        sessionKey: `${request.source}-${randomUUID()}`,
        task: request.task,
        ...(systemPrompt ? { systemPrompt } : {}),
        model: {
          provider: authRef?.provider ?? (spec?.agents?.default?.baseURL ? 'custom' : 'openai'),
          model,
          ...(spec?.agents?.default?.baseURL ? { baseURL: spec.agents.default.baseURL } : {}),
          authSecretRef: authRef?.secret ?? '',
        },
        skills: (spec?.skills ?? []).filter((skill) => !isWebEndpointSkill(skill)),
        timeout: request.timeout,
        mode: 'task',
        ...inherited,
      },
    };
    const created = await this.client.create<AgentRun>(pathOf('runs', request.namespace), body);
    const name = created.metadata.name;
    return { name, reused: false };
  }

  /** Resolves with the run once it has Succeeded or Failed; rejects if it is deleted or the signal aborts. */
  waitForEnd(namespace: string, name: string, signal: AbortSignal): Promise<AgentRun> {
    return new Promise((resolve, reject) => {
      const finish = (action: () => void) => {
        off();
        signal.removeEventListener('abort', onAbort);
        action();
      };
      const check = (run: AgentRun) => {
        const phase = run.status?.phase;
        if (phase === 'Succeeded' || phase === 'Failed') finish(() => resolve(run));
      };
      const off = this.runs.on((event, run) => {
        if (run.metadata.namespace !== namespace || run.metadata.name !== name) return;
        if (event === 'delete') finish(() => reject(new Error(`the AgentRun ${name} was deleted before it finished`)));
        else check(run);
      });
      const onAbort = () => finish(() => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')));
      signal.addEventListener('abort', onAbort, { once: true });
      const existing = this.runs.get(namespace, name);
      if (existing) check(existing);
    });
  }

  /** v0.10 findRecentWebRun: the newest unfinished run of the same request hash created within the window. */
  private recentRun(namespace: string, instance: string, requestHash: string): AgentRun | undefined {
    const cutoff = Date.now() - dedupeWindowMs;
    return this.runs
      .list(
        (run) =>
          run.metadata.namespace === namespace &&
          run.metadata.labels?.[labels.instance] === instance &&
          run.metadata.labels?.[labels.source] === sources.webProxy &&
          run.metadata.labels?.[requestHashLabel] === requestHash &&
          new Date(run.metadata.creationTimestamp ?? 0).getTime() >= cutoff &&
          !['Succeeded', 'Failed', 'Skipped'].includes(run.status?.phase ?? ''),
      )
      .sort((a, b) => new Date(b.metadata.creationTimestamp ?? 0).getTime() - new Date(a.metadata.creationTimestamp ?? 0).getTime())[0];
  }

}

export function streamKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
