import { conditions, integer, object, oneOf, string, stringList, stringMap, type Schema } from './schema-builders.js';
import { agentSandbox, sandbox, skills, thinkingLevels } from './schema-instance.js';

/** AgentRun, from the field list in the wire contract (§1). */

export const runSpec: Schema = object(
  'One execution of an agent: the task, the model and what the agent may use.',
  {
    instanceRef: string('The SympoziumInstance this run belongs to.'),
    agentId: string('Which agent of the instance runs, e.g. primary.'),
    sessionKey: string('Conversation the run belongs to; runs of one session share memory.'),
    task: string('What the agent is asked to do.'),
    systemPrompt: string('System prompt of this run.'),
    model: object(
      'The model the agent talks to.',
      {
        provider: string('openai, anthropic, azure-openai, ollama, bedrock or custom.'),
        model: string('Model name.'),
        baseURL: string('OpenAI-compatible base URL.'),
        thinking: oneOf('Reasoning effort.', thinkingLevels),
        authSecretRef: string('Secret with the provider key (may be empty for keyless providers).'),
        nodeSelector: stringMap('Node labels the run’s pod must run on.'),
      },
      ['provider', 'model', 'authSecretRef'],
    ),
    env: stringMap('Extra environment variables of the agent container.'),
    parent: object('The run that spawned this one, for sub-agents.', {
      runName: string('Name of the parent AgentRun.'),
      sessionKey: string('Session of the parent.'),
      spawnDepth: integer('How deep this run is nested.', { minimum: 0 }),
    }),
    sandbox,
    agentSandbox,
    skills,
    toolPolicy: object('Which tools the agent may call.', {
      allow: stringList('Only these tools (empty: all).'),
      deny: stringList('Never these tools.'),
    }),
    timeout: string('How long the run may take, e.g. 10m (default 10 minutes).', { pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$' }),
    cleanup: oneOf('What happens to the pod when the run ends.', ['delete', 'keep']),
    mode: oneOf('task: run once and finish; server: a long-lived Deployment (the web endpoint).', ['task', 'server'], {
      default: 'task',
    }),
  },
  ['instanceRef', 'agentId', 'sessionKey', 'task', 'model'],
);

export const runStatus: Schema = object('What the controller last observed.', {
  phase: string('Pending, Running, Serving, Succeeded or Failed (empty until the Job exists).'),
  podName: string('The pod running the agent.'),
  jobName: string('The Job of a task run.'),
  startedAt: string('When the run started (RFC 3339).', { format: 'date-time' }),
  completedAt: string('When the run ended (RFC 3339).', { format: 'date-time' }),
  result: string('The agent’s answer.'),
  error: string('Why the run failed.'),
  exitCode: integer('Exit code of the agent container.'),
  tokenUsage: object('Tokens and tool calls the run used.', {
    inputTokens: integer('Prompt tokens.', { format: 'int64' }),
    outputTokens: integer('Completion tokens.', { format: 'int64' }),
    totalTokens: integer('All tokens.', { format: 'int64' }),
    toolCalls: integer('Tool calls made.'),
    durationMs: integer('Wall time of the run in milliseconds.', { format: 'int64' }),
  }),
  deploymentName: string('The Deployment of a server run.'),
  serviceName: string('The Service of a server run.'),
  traceID: string('OpenTelemetry trace of the run.'),
  conditions,
  observedGeneration: integer('The metadata.generation this status describes.', { format: 'int64' }),
});
