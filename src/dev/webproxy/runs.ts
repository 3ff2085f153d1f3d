import { createHash } from 'node:crypto';
import type { KubeClient } from '../../kube/client.js';
import { apiVersion, labels, names, sources, type AgentRun, type SympoziumInstance } from '../../sympozium/types.js';
import { isWebEndpointSkill } from '../../sympozium/web-endpoint.js';
import { topics, type AgentEventBus, type BusEvent, type Topic } from '../providers/streams.js';
import type { Informer } from '../controller/informer.js';
import type { ReleaseProfile } from '../controller/release-profile.js';
import { pathOf } from '../controller/resources.js';
import { parseGoDuration } from '../controller/timings.js';

/**
 * How the proxy turns a request into a task AgentRun and waits for it, as upstream's web-proxy sidecar does
 * (internal/webproxy/openai.go handleChatCompletions, mcp.go executeAgentTask): the run is created through the
 * API (so `kubectl get agentruns` sees it like any other), and the answer is the run's `agent.run.completed`
 * event, which the run's ipc-bridge publishes as soon as the agent writes its result, not the run's phase
 * (Succeeded comes seconds later, after the Job ends). A failure is `agent.run.failed`, which only v0.10.46's
 * controller publishes.
 */

export interface RunRequest {
  namespace: string;
  instance: string;
  source: 'web' | 'mcp';
  task: string;
  /** The joined system prompt (web only: the instance's memory.systemPrompt, then the request's system messages). */
  systemPrompt?: string;
  /** v0.5.8's fixed `spec.timeout` (10m); v0.10.46 takes the instance's agents.default.runTimeout instead. */
  timeout: string;
  /** v0.10.46 only: the request hash the run is labelled with and found again by. */
  requestHash?: string;
}

/** v0.10 webDedupeWindow. */
const dedupeWindowMs = 15 * 60_000;

const requestHashLabel = 'sympozium.ai/request-hash';

/** v0.10 webRequestHash: 16 hex characters of a SHA-256 of the Idempotency-Key (trimmed), else of the request. */
export function webRequestHash(idempotencyKey: string | undefined, instance: string, model: string, systemPrompt: string, task: string): string {
  const key = idempotencyKey?.trim();
  const value = key ? `idempotency-key\x00${instance}\x00${key}` : ['web-chat', instance, model, systemPrompt, task].join('\x00');
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/** resolveProvider: the first authRef's provider, else a provider named in a Secret's name, else openai. */
function resolveProvider(spec: SympoziumInstance['spec'] | undefined): string {
  const refs = spec?.authRefs ?? [];
  const named = refs.find((ref) => ref.provider)?.provider;
  if (named) return named;
  for (const ref of refs) {
    const found = ['anthropic', 'azure-openai', 'bedrock', 'lm-studio', 'ollama', 'openai'].find((provider) => (ref.secret ?? '').includes(provider));
    if (found) return found;
  }
  return 'openai';
}

/** A Go time.Now().UnixNano(), as upstream's session keys and MCP session ids carry. */
export function unixNano(): string {
  const [, nanos] = process.hrtime();
  return `${Date.now()}${String(nanos % 1_000_000).padStart(6, '0')}`;
}

/**
 * The proxy's subscriptions for one request: like upstream's eventBus.Subscribe channels, they start collecting
 * when made (no replay), and `next` hands out the events of one run in order.
 */
export class RunEvents {
  private readonly queue: BusEvent[] = [];
  private readonly offs: (() => void)[] = [];
  private wake?: () => void;

  constructor(
    private readonly bus: AgentEventBus,
    private readonly namespace: string,
  ) {}

  subscribe(...wanted: Topic[]): this {
    for (const topic of wanted) {
      this.offs.push(
        this.bus.subscribe(topic, (event) => {
          if (event.metadata.namespace !== this.namespace) return;
          this.queue.push(event);
          this.wake?.();
        }),
      );
    }
    return this;
  }

  /** The next event of `run` (others are skipped, as upstream's `continue`), or undefined once `signal` aborts. */
  async next(run: string, signal: AbortSignal): Promise<BusEvent | undefined> {
    for (;;) {
      if (signal.aborted) return undefined;
      const index = this.queue.findIndex((event) => event.metadata.agentRunID === run);
      if (index >= 0) return this.queue.splice(index, 1)[0];
      this.queue.length = 0;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        this.wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    this.queue.length = 0;
  }
}

export class RunBroker {
  constructor(
    private readonly client: KubeClient,
    private readonly runs: Informer<AgentRun>,
    private readonly instances: Informer<SympoziumInstance>,
    private readonly bus: AgentEventBus,
    readonly profile: ReleaseProfile,
  ) {}

  instance(namespace: string, name: string): SympoziumInstance | undefined {
    return this.instances.get(namespace, name);
  }

  /** What controller-runtime's Get says when the instance is gone: `<plural>.sympozium.ai "<name>" not found`. */
  notFound(name: string): string {
    return `${this.profile.instancePlural}.sympozium.ai "${name}" not found`;
  }

  /** Subscriptions to the completion and failure topics, made before the run exists, as upstream's are. */
  events(namespace: string): RunEvents {
    return new RunEvents(this.bus, namespace).subscribe(topics.completed, topics.failed);
  }

  /** v0.10 findRecentWebRun: the newest unfinished run of the same request hash created within the window. */
  recentRun(namespace: string, instance: string, requestHash: string): AgentRun | undefined {
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

  /** Creates the run as the release's proxy builds it; returns its name. */
  async create(request: RunRequest): Promise<string> {
    const instance = this.instances.get(request.namespace, request.instance);
    const spec = instance?.spec;
    const defaults = (spec?.agents?.default ?? {}) as Record<string, unknown> & NonNullable<NonNullable<SympoziumInstance['spec']['agents']>['default']>;
    const v010 = this.profile.webProxyV010;
    const web = request.source === 'web';
    // v0.10: Timeout is agents.default.ParseRunTimeout() (nil when unset or unparsable); v0.5.8: always 10m.
    const runTimeout = typeof defaults.runTimeout === 'string' && (parseGoDuration(defaults.runTimeout) ?? 0) > 0 ? defaults.runTimeout : undefined;
    const timeout = v010 ? runTimeout : request.timeout;
    const inherited = v010
      ? Object.fromEntries(
          Object.entries({
            imagePullSecrets: (spec as Record<string, unknown> | undefined)?.imagePullSecrets,
            lifecycle: defaults.lifecycle,
            env: defaults.env,
          }).filter(([, value]) => value !== undefined && value !== null),
        )
      : {};
    const model = Object.fromEntries(
      Object.entries({
        provider: resolveProvider(spec),
        model: defaults.model ?? '',
        baseURL: defaults.baseURL,
        authSecretRef: (spec?.authRefs ?? []).find((ref) => (ref.secret ?? '').trim())?.secret ?? '',
        ...(v010 ? { providerHeaders: defaults.providerHeaders, providerHeadersSecretRef: defaults.providerHeadersSecretRef } : {}),
        // The chat handler passes the nodeSelector on; executeAgentTask (MCP) does not.
        ...(web ? { nodeSelector: defaults.nodeSelector } : {}),
      }).filter(([, value]) => value !== undefined && value !== null && value !== ''),
    );
    const body = {
      apiVersion,
      kind: 'AgentRun',
      metadata: {
        generateName: web ? names.chatRunPrefix(request.instance) : names.mcpRunPrefix(request.instance),
        namespace: request.namespace,
        labels: { [labels.instance]: request.instance, [labels.source]: sources.webProxy, ...(request.requestHash ? { [requestHashLabel]: request.requestHash } : {}) },
      },
      spec: {
        [this.profile.runRef]: request.instance,
        agentId: 'primary',
        sessionKey: `${request.source}-${request.instance}-${unixNano()}`,
        task: request.task,
        ...(request.systemPrompt ? { systemPrompt: request.systemPrompt } : {}),
        model: { authSecretRef: '', ...model },
        // The chat handler drops the web-endpoint skill; executeAgentTask (MCP) copies the skills as they are, which
        // is harmless: only an explicit spec.mode "server" makes a server run (agentrun_controller.go Reconcile),
        // and task mode skips RequiresServer sidecars.
        skills: web ? (spec?.skills ?? []).filter((skill) => !isWebEndpointSkill(skill)) : (spec?.skills ?? []),
        ...(timeout ? { timeout } : {}),
        // The CRD's default, written out.
        mode: 'task',
        ...inherited,
      },
    };
    const created = await this.client.create<AgentRun>(pathOf('runs', request.namespace), body);
    return created.metadata.name;
  }
}
