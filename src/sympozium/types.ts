import type { ObjectMeta as KubeObjectMeta } from '../kube/client.js';

/**
 * The Sympozium resources as the CLI reads and writes them (sympozium.ai/v1alpha1), from upstream's
 * api/v1alpha1/*_types.go at 4a6f5f1 and 8b74fa0 (docs/sympozium-contract.md §1). Status fields upstream never
 * fills are optional: read them when present, never depend on them.
 */

export const group = 'sympozium.ai';
export const version = 'v1alpha1';
export const apiVersion = `${group}/${version}`;

/** Label keys and values shared by the controller, the web proxy and every reader. */
export const labels = {
  instance: 'sympozium.ai/instance',
  source: 'sympozium.ai/source',
  component: 'sympozium.ai/component',
  builtin: 'sympozium.ai/builtin',
  /** On a task run's Job and pod (agentrun_controller.go buildJob), how the controller finds the run's pod. */
  agentRun: 'sympozium.ai/agent-run',
} as const;

export const sources = { webProxy: 'web-proxy', channel: 'channel' } as const;
export const components = { webEndpoint: 'web-endpoint', webProxy: 'web-proxy' } as const;

/** Namespace where upstream installs the controller and the built-in SkillPacks. */
export const systemNamespace = 'sympozium-system';

export const webEndpointSkill = 'web-endpoint';
/** Upstream also accepts this older name for the same skill. */
export const legacyWebEndpointSkill = 'skillpack-web-endpoint';

/** Metadata of a stored object: like any object's, but always named. */
type ObjectMeta = KubeObjectMeta & { name: string };

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface SkillRef {
  skillPackRef?: string;
  configMapRef?: string;
  params?: Record<string, string>;
}

interface ChannelSpec {
  type: 'telegram' | 'slack' | 'discord' | 'whatsapp';
  configRef: { provider?: string; secret: string };
  accessControl?: { allowedSenders?: string[]; deniedSenders?: string[]; allowedChats?: string[]; denyMessage?: string };
}

interface AgentDefaults {
  model: string;
  baseURL?: string;
  thinking?: 'off' | 'low' | 'medium' | 'high';
  sandbox?: { enabled: boolean; image?: string; resources?: Record<string, unknown> };
  agentSandbox?: { enabled: boolean; runtimeClass?: string; warmPool?: { size?: number; runtimeClass?: string; resources?: Record<string, unknown> } };
  subagents?: { maxDepth?: number; maxConcurrent?: number; maxChildrenPerAgent?: number };
  nodeSelector?: Record<string, string>;
}

interface SympoziumInstanceSpec {
  channels?: ChannelSpec[];
  agents: { default: AgentDefaults };
  skills?: SkillRef[];
  policyRef?: string;
  authRefs?: { provider?: string; secret: string }[];
  memory?: { enabled: boolean; maxSizeKB?: number; systemPrompt?: string };
  observability?: {
    enabled: boolean;
    otlpEndpoint?: string;
    otlpProtocol?: 'grpc' | 'http/protobuf';
    serviceName?: string;
    headers?: Record<string, string>;
    headersSecretRef?: string;
    samplingRatio?: string;
    resourceAttributes?: Record<string, string>;
  };
  mcpServers?: {
    name: string;
    url?: string;
    toolsPrefix: string;
    timeout?: number;
    authSecret?: string;
    authKey?: string;
    headers?: Record<string, string>;
    toolsAllow?: string[];
    toolsDeny?: string[];
  }[];
  /** Deprecated upstream in favour of the web-endpoint skill; still read. */
  webEndpoint?: { enabled: boolean; hostname?: string; authSecretRef?: string; rateLimit?: { requestsPerMinute?: number; burstSize?: number } };
}

type InstancePhase = '' | 'Pending' | 'Running' | 'Serving' | 'Error';

export interface SympoziumInstanceStatus {
  phase?: InstancePhase;
  channels?: { type: string; status: 'Connected' | 'Disconnected' | 'Error'; lastHealthCheck?: string; message?: string }[];
  activeAgentPods?: number;
  totalAgentRuns?: number;
  conditions?: Condition[];
  observedGeneration?: number;
  webEndpoint?: { status?: 'Pending' | 'Ready' | 'Error'; url?: string; authSecretName?: string };
}

export interface SympoziumInstance {
  apiVersion: string;
  kind: 'SympoziumInstance' | 'Agent';
  metadata: ObjectMeta;
  spec: SympoziumInstanceSpec;
  status?: SympoziumInstanceStatus;
}

export type RunPhase = '' | 'Pending' | 'Running' | 'Serving' | 'Succeeded' | 'Failed' | 'PostRunning' | 'AwaitingDelegate' | 'Skipped';

export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  toolCalls?: number;
  durationMs?: number;
}

interface AgentRunSpec {
  instanceRef?: string;
  /** v0.10+ name of instanceRef. */
  agentRef?: string;
  agentId: string;
  sessionKey: string;
  /** A string in v0.5; may be an object in later versions. */
  task: string | Record<string, unknown>;
  systemPrompt?: string;
  model: { provider: string; model: string; baseURL?: string; thinking?: string; authSecretRef: string; nodeSelector?: Record<string, string> };
  env?: Record<string, string>;
  parent?: { runName?: string; sessionKey?: string; spawnDepth?: number };
  sandbox?: Record<string, unknown>;
  agentSandbox?: Record<string, unknown>;
  skills?: SkillRef[];
  toolPolicy?: { allow?: string[]; deny?: string[] };
  timeout?: string;
  cleanup?: 'delete' | 'keep';
  mode?: 'task' | 'server';
}

export interface AgentRunStatus {
  phase?: RunPhase;
  podName?: string;
  jobName?: string;
  startedAt?: string;
  completedAt?: string;
  result?: string;
  error?: string;
  exitCode?: number;
  tokenUsage?: TokenUsage;
  deploymentName?: string;
  serviceName?: string;
  traceID?: string;
  conditions?: Condition[];
}

export interface AgentRun {
  apiVersion: string;
  kind: 'AgentRun';
  metadata: ObjectMeta;
  spec: AgentRunSpec;
  status?: AgentRunStatus;
}

/** Upstream never writes Pending: a run with no phase yet is shown as Pending. */
export function displayRunPhase(run: Pick<AgentRun, 'status'>): Exclude<RunPhase, ''> {
  return run.status?.phase || 'Pending';
}

/** The instance a run belongs to: the label every upstream creator sets, else the spec reference. */
export function runInstance(run: Pick<AgentRun, 'metadata' | 'spec'>): string | undefined {
  return run.metadata.labels?.[labels.instance] ?? run.spec?.instanceRef ?? run.spec?.agentRef;
}

/** Names derived from an instance name, as upstream's controllers make them (docs/sympozium-contract.md §2-4). */
export const names = {
  webEndpointRun: (instance: string) => `${instance}-web-endpoint`,
  serverService: (run: string) => `${run}-server`,
  serverDeployment: (run: string) => `${run}-server`,
  httpRoute: (run: string) => `${run}-web`,
  /** The seed's key Secret name; see api-key lookup for the other variants. */
  webEndpointKeySecret: (instance: string) => `${instance}-web-endpoint-key`,
  /** The key Secret upstream's AgentRun controller creates for a server run (agentrun_controller.go). */
  webProxyKeySecret: (instance: string) => `${instance}-web-proxy-key`,
  providerSecret: (instance: string, provider: string) => `${instance}-${provider}-key`,
  chatRunPrefix: (instance: string) => `${instance}-web-`,
  mcpRunPrefix: (instance: string) => `${instance}-mcp-`,
} as const;

/** The environment variable (and so the Secret data key) each provider's key lives under. */
export const providerKeyEnv: Record<string, string[]> = {
  openai: ['OPENAI_API_KEY'],
  anthropic: ['ANTHROPIC_API_KEY'],
  'azure-openai': ['AZURE_OPENAI_API_KEY'],
  bedrock: ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
  ollama: [],
  custom: ['OPENAI_API_KEY'],
};

/**
 * The web-endpoint skill's params (upstream internal/controller/agentrun_controller.go) and their defaults
 * (upstream cmd/web-proxy/main.go: 60 requests a minute, a burst of 10).
 */
export const webEndpointParams = {
  rpm: 'rate_limit_rpm',
  burst: 'rate_limit_burst',
  hostname: 'hostname',
  authSecretRef: 'auth_secret_ref',
} as const;
export const webEndpointDefaults = { rpm: 60, burst: 10 } as const;
