import {
  array,
  boolean,
  conditions,
  integer,
  object,
  objectName,
  oneOf,
  resources,
  string,
  stringList,
  stringMap,
  type Schema,
} from './schema-builders.js';

/**
 * SympoziumInstance, from the field list in the wire contract (§1). Pieces an AgentRun shares with the instance
 * (skills, sandbox, agentSandbox) are exported for schema-run.ts.
 */

export const thinkingLevels = ['off', 'low', 'medium', 'high'];
export const channelTypes = ['telegram', 'slack', 'discord', 'whatsapp'];

export const skillRef: Schema = object('A SkillPack (or a ConfigMap of skills) mounted into the agent pods.', {
  skillPackRef: string('Name of a SkillPack, e.g. k8s-ops or web-endpoint.'),
  configMapRef: string('Name of a ConfigMap holding skill Markdown files, instead of a SkillPack.'),
  params: stringMap('Skill parameters; they reach the skill sidecar as SKILL_<KEY> environment variables.'),
});

export const skills = array('SkillPacks mounted into every agent pod.', skillRef);

export const sandbox: Schema = object(
  'Runs agent tools in a separate sandbox container.',
  {
    enabled: boolean('Whether tool calls run in the sandbox container.'),
    image: string('Sandbox container image (default: the controller’s).'),
    resources: resources('Resources of the sandbox container.'),
  },
  ['enabled'],
);

export const agentSandbox: Schema = object(
  'Kernel-level isolation through the Kubernetes Agent Sandbox (gVisor, Kata).',
  {
    enabled: boolean('Whether runs use the Agent Sandbox backend.'),
    runtimeClass: string('RuntimeClass of the sandbox pods, e.g. gvisor.'),
    warmPool: object('Pre-started sandboxes, so runs start faster.', {
      size: integer('How many sandboxes to keep warm.', { minimum: 0 }),
      runtimeClass: string('RuntimeClass of the warm sandboxes.'),
      resources: resources('Resources of each warm sandbox.'),
    }),
  },
  ['enabled'],
);

const agentDefaults = object(
  'The settings every agent of this instance starts from.',
  {
    model: string('Model name, e.g. gpt-4.1 or claude-sonnet-4-5.', { minLength: 1 }),
    baseURL: string('OpenAI-compatible base URL overriding the provider’s (Ollama, Azure, custom).'),
    thinking: oneOf('Reasoning effort.', thinkingLevels),
    sandbox,
    agentSandbox,
    subagents: object('Limits for agents spawning sub-agents.', {
      maxDepth: integer('Deepest nesting of sub-agents.', { minimum: 0 }),
      maxConcurrent: integer('Sub-agent runs at once.', { minimum: 0 }),
      maxChildrenPerAgent: integer('Sub-agents one agent may spawn.', { minimum: 0 }),
    }),
    nodeSelector: stringMap('Node labels agent pods must run on, e.g. gpu-type: a100.'),
  },
  ['model'],
);

const channel = object(
  'A chat channel connected to the instance.',
  {
    type: oneOf('The channel kind.', channelTypes),
    configRef: object(
      'Where the channel’s credentials live.',
      {
        provider: string('Provider of the channel integration, when there are several.'),
        secret: objectName('Name of the Secret holding the channel’s token and settings.'),
      },
      ['secret'],
    ),
    accessControl: object('Who may talk to the agent through this channel.', {
      allowedSenders: stringList('Sender IDs allowed to talk to the agent (empty: everyone).'),
      deniedSenders: stringList('Sender IDs always refused (wins over allowedSenders).'),
      allowedChats: stringList('Chat or group IDs the agent answers in.'),
      denyMessage: string('Reply sent to refused senders.'),
    }),
  },
  ['type', 'configRef'],
);

const observability = object(
  'OpenTelemetry traces and metrics of the agents.',
  {
    enabled: boolean('Whether telemetry is exported.'),
    otlpEndpoint: string('OTLP collector endpoint, e.g. otel-collector.observability.svc:4317.'),
    otlpProtocol: oneOf('OTLP transport.', ['grpc', 'http/protobuf']),
    serviceName: string('service.name of the exported telemetry.'),
    headers: stringMap('Extra headers sent to the collector.'),
    headersSecretRef: string('Secret whose keys are sent as headers (for tokens).'),
    samplingRatio: string('Fraction of traces kept, as a string, e.g. "0.25".'),
    resourceAttributes: stringMap('Extra OpenTelemetry resource attributes.'),
  },
  ['enabled'],
);

const mcpServer = object(
  'An external MCP server whose tools the agents may call.',
  {
    name: string('Name of the server, unique within the instance.'),
    url: string('URL of the server.'),
    toolsPrefix: string('Prefix added to the server’s tool names, e.g. gh.'),
    timeout: integer('Seconds one tool call may take.', { minimum: 0 }),
    authSecret: string('Secret holding the server’s credentials.'),
    authKey: string('Key within authSecret.'),
    headers: stringMap('Extra HTTP headers.'),
    toolsAllow: stringList('Only these tools are offered.'),
    toolsDeny: stringList('These tools are never offered.'),
  },
  ['name', 'toolsPrefix'],
);

const webEndpoint = object(
  'Deprecated: add the web-endpoint skill instead (upstream controllers ignore this field).',
  {
    enabled: boolean('Whether the instance is served as an OpenAI-compatible API.'),
    hostname: string('Public hostname of the endpoint.'),
    authSecretRef: string('Existing Secret with the API key (key api-key).'),
    rateLimit: object('Token bucket of the endpoint.', {
      requestsPerMinute: integer('Sustained requests per minute.', { minimum: 1 }),
      burstSize: integer('Requests allowed at once.', { minimum: 1 }),
    }),
  },
  ['enabled'],
);

export const instanceSpec: Schema = object(
  'What the instance should be: its agents, channels, skills, policy, credentials, memory and telemetry.',
  {
    channels: array('Chat channels connected to the instance.', channel),
    agents: object('Agent settings.', { default: agentDefaults }, ['default']),
    skills,
    policyRef: objectName('Name of a SympoziumPolicy (upstream presets: permissive, default, restrictive).'),
    authRefs: array(
      'Provider credentials.',
      object(
        'A Secret holding a model provider’s key, under the provider’s environment variable name.',
        {
          provider: string('The provider: openai, anthropic, azure-openai, ollama, bedrock or custom.'),
          secret: objectName('Name of the Secret, by convention <instance>-<provider>-key.'),
        },
        ['secret'],
      ),
    ),
    memory: object(
      'Memory kept between runs (a ConfigMap) and the system prompt.',
      {
        enabled: boolean('Whether memory is kept.'),
        maxSizeKB: integer('Largest memory kept, in KiB.', { minimum: 1 }),
        systemPrompt: string('System prompt every run of the instance starts with.'),
      },
      ['enabled'],
    ),
    observability,
    mcpServers: array('External MCP servers.', mcpServer),
    webEndpoint,
  },
  ['agents'],
);

export const instanceStatus: Schema = object('What the controller last observed.', {
  phase: string('Pending, Running, Serving or Error (empty before the first reconcile).'),
  channels: array(
    'Health of each channel.',
    object('One channel.', {
      type: string('The channel kind.'),
      status: string('Connected, Disconnected or Error.'),
      lastHealthCheck: string('When the channel was last checked (RFC 3339).', { format: 'date-time' }),
      message: string('Details of the last check.'),
    }),
  ),
  activeAgentPods: integer('Runs of this instance that are Running or Serving.'),
  totalAgentRuns: integer('Runs of this instance so far.', { format: 'int64' }),
  conditions,
  observedGeneration: integer('The metadata.generation this status describes.', { format: 'int64' }),
  webEndpoint: object('The OpenAI-compatible endpoint, when the web-endpoint skill is on.', {
    status: string('Pending, Ready or Error.'),
    url: string('Where the endpoint answers.'),
    authSecretName: string('Secret holding the endpoint’s API key (key api-key).'),
  }),
});
