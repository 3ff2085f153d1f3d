import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isScalar, parseDocument, visit, type Document, type YAMLMap } from 'yaml';
import { names, providerKeyEnv, webEndpointParams, webEndpointSkill } from './types.js';
import { placeholderAnnotation } from './validate.js';

/**
 * What `sympozium init` writes: the provider Secret and the SympoziumInstance, built from the real YAML files in
 * templates/ by parsing them and setting typed fields (so comments survive and nothing is ever spliced into
 * text). Pure: the same answers always give the same bytes.
 */

export const providerNames = ['openai', 'anthropic', 'azure-openai', 'ollama', 'bedrock', 'custom'] as const;
export type Provider = (typeof providerNames)[number];
export type Thinking = 'off' | 'low' | 'medium' | 'high';
/**
 * The channel types upstream's agent runner knows (cmd/agent-runner/tools.go, v0.5.8 and v0.10.46; the CRD
 * itself takes any string).
 */
export const channelTypes = ['telegram', 'slack', 'discord', 'whatsapp'] as const;
export type ChannelType = (typeof channelTypes)[number];

/** The instance kinds init can write: SympoziumInstance (v0.5.8) or Agent (v0.10.46, the same spec). */
export const instanceKinds = ['SympoziumInstance', 'Agent'] as const;
export type InstanceKindName = (typeof instanceKinds)[number];

export interface ProviderInfo {
  label: string;
  /** The default model; custom endpoints have none. */
  model?: string;
  /** Whether a base URL must be given, may be given, or has a default. */
  baseURL: 'required' | 'optional' | { default: string };
  /** Secret data keys: the provider's environment variables. */
  keys: string[];
}

/** Ollama ignores the key, but the agent's OpenAI-compatible client wants one: upstream writes a dummy. */
const keylessKey = 'OPENAI_API_KEY';
const keylessValue = 'ollama';

export const providers: Record<Provider, ProviderInfo> = {
  openai: { label: 'OpenAI', model: 'gpt-4.1', baseURL: 'optional', keys: providerKeyEnv.openai! },
  anthropic: { label: 'Anthropic', model: 'claude-sonnet-4-5', baseURL: 'optional', keys: providerKeyEnv.anthropic! },
  'azure-openai': { label: 'Azure OpenAI', model: 'gpt-4.1', baseURL: 'required', keys: providerKeyEnv['azure-openai']! },
  ollama: { label: 'Ollama (local models, no key)', model: 'llama3.1', baseURL: { default: 'http://ollama:11434/v1' }, keys: [] },
  bedrock: { label: 'AWS Bedrock', model: 'anthropic.claude-sonnet-4-5-20250929-v1:0', baseURL: 'optional', keys: providerKeyEnv.bedrock! },
  custom: { label: 'Custom OpenAI-compatible endpoint', baseURL: 'required', keys: providerKeyEnv.custom! },
};

/** The SkillPacks upstream installs in sympozium-system (web-endpoint is asked for separately). */
export const builtinSkills: { name: string; description: string }[] = [
  { name: 'k8s-ops', description: 'inspect and operate the cluster (kubectl sidecar)' },
  { name: 'memory', description: 'long-term memory across runs' },
  { name: 'code-review', description: 'review diffs and pull requests' },
  { name: 'github-gitops', description: 'work with GitHub repositories' },
  { name: 'incident-response', description: 'triage and run incidents' },
  { name: 'llmfit', description: 'size models to the hardware' },
  { name: 'software-dev', description: 'write and change code' },
  { name: 'sre-observability', description: 'metrics, logs and traces' },
  { name: 'subagents', description: 'delegate work to sub-agents' },
];

export interface SkillAnswer {
  ref: string;
  params: Record<string, string>;
}

export interface InitAnswers {
  name: string;
  /** Default SympoziumInstance. */
  kind?: InstanceKindName;
  namespace?: string;
  provider: Provider;
  model: string;
  baseURL?: string;
  thinking: Thinking;
  skills: SkillAnswer[];
  policy: string;
  channels: { type: ChannelType; secret: string }[];
  allowedSenders: string[];
  memory: boolean;
  systemPrompt?: string;
  observability?: string;
  /** Other params of the web-endpoint skill given with --skill web-endpoint:k=v (auth_secret_ref...) go in `params`. */
  webEndpoint?: { rpm: number; burst: number; hostname?: string; params?: Record<string, string> };
  /** Secret data read from the environment (--api-key-env); absent means a placeholder is written. */
  keys?: Record<string, string>;
}

export interface Scaffold {
  text: string;
  /** The instance document alone, for applying it without a placeholder Secret. */
  instanceText: string;
  secretName: string;
  /** The Secret holds a placeholder the user must replace (or create the Secret with kubectl instead). */
  placeholder: boolean;
  /** The file holds a real key: it must be written with mode 0600. */
  holdsKey: boolean;
}

export interface Templates {
  instance: string;
  secret: string;
}

let templatesDir: string | undefined;

/**
 * templates/ sits at the package root. This module runs from src/sympozium/ under vitest and from a bundle
 * chunk in dist/ when installed, so walk up from wherever it is instead of assuming a depth.
 */
function findTemplatesDir(from: string = fileURLToPath(import.meta.url)): string {
  if (templatesDir) return templatesDir;
  let dir = path.dirname(from);
  for (;;) {
    const candidate = path.join(dir, 'templates');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(candidate, 'instance.yaml'))) return (templatesDir = candidate);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`templates/ not found above ${path.dirname(from)}; the sympozium package is incomplete`);
    dir = parent;
  }
}

function loadTemplates(): Templates {
  const dir = findTemplatesDir();
  return {
    instance: readFileSync(path.join(dir, 'instance.yaml'), 'utf8'),
    secret: readFileSync(path.join(dir, 'secret.yaml'), 'utf8'),
  };
}

/** The Secret's data keys for a provider, and the value each gets when nothing else is known. */
export function secretKeys(provider: Provider): string[] {
  return provider === 'ollama' ? [keylessKey] : providers[provider].keys;
}

function placeholderFor(key: string): string {
  return `REPLACE_WITH_YOUR_${key}`;
}

/** The one-line command that creates the provider Secret with the key read from the environment, never typed. */
export function kubectlSecretCommand(answers: Pick<InitAnswers, 'name' | 'namespace' | 'provider'>): string {
  const secret = names.providerSecret(answers.name, answers.provider);
  const literals = secretKeys(answers.provider).map((key) => `--from-literal=${key}="$${key}"`);
  return ['kubectl create secret generic', secret, ...(answers.namespace ? [`-n ${answers.namespace}`] : []), ...literals].join(' ');
}

export function scaffold(answers: InitAnswers, templates: Templates = loadTemplates()): Scaffold {
  const secretName = names.providerSecret(answers.name, answers.provider);
  const secret = secretDocument(answers, secretName, templates.secret);
  const instance = instanceDocument(answers, secretName, templates.instance);
  const [secretText, instanceText] = [secret.doc, instance].map((doc) => quoteYaml11Traps(doc).toString({ lineWidth: 0 })) as [string, string];
  return { text: `${secretText}---\n${instanceText}`, instanceText, secretName, placeholder: secret.placeholder, holdsKey: secret.holdsKey };
}

function secretDocument(answers: InitAnswers, secretName: string, template: string) {
  const doc = parseDocument(template);
  doc.setIn(['metadata', 'name'], secretName);
  if (answers.namespace) doc.setIn(['metadata', 'namespace'], answers.namespace);
  doc.setIn(['metadata', 'labels'], doc.createNode({ 'sympozium.ai/instance': answers.name }));
  const keys = secretKeys(answers.provider);
  const keyless = answers.provider === 'ollama' && !answers.keys;
  const placeholder = !answers.keys && !keyless;
  const data: Record<string, string> = {};
  for (const key of keys) {
    data[key] = answers.keys?.[key] ?? (keyless ? keylessValue : placeholderFor(key));
  }
  doc.setIn(['stringData'], doc.createNode(data));
  let comment: string[];
  if (placeholder) {
    doc.setIn(['metadata', 'annotations'], doc.createNode({ [placeholderAnnotation]: 'true' }));
    comment = [
      ' PLACEHOLDER: sympozium never writes your key to a file unless you ask (--api-key-env).',
      ' Replace the value below, or delete this document and create the Secret from your environment:',
      `   ${kubectlSecretCommand(answers)}`,
    ];
  } else if (keyless) {
    comment = [" Ollama needs no key; the agent's OpenAI-compatible client still wants one, so this is a dummy."];
  } else {
    comment = [' A real key, read from your environment: keep this file private and out of version control.'];
  }
  const stringData = (doc.contents as YAMLMap).items.find((pair) => isScalar(pair.key) && pair.key.value === 'stringData');
  if (stringData && isScalar(stringData.key)) stringData.key.commentBefore = comment.join('\n');
  return { doc, placeholder, holdsKey: Boolean(answers.keys) };
}

function instanceDocument(answers: InitAnswers, secretName: string, template: string): Document {
  const doc = parseDocument(template);
  if (answers.kind === 'Agent') {
    // v0.10.46 renamed the kind and kept its spec (api/v1alpha1/agent_types.go); only the words around it change.
    doc.set('kind', 'Agent');
    // The template's opening comment sits on its first key (apiVersion).
    const first = (doc.contents as YAMLMap).items[0]?.key;
    if (isScalar(first) && first.commentBefore) first.commentBefore = first.commentBefore
      .replace('A SympoziumInstance: one tenant of Sympozium', 'An Agent (Sympozium v0.10; SympoziumInstance before): one tenant of Sympozium')
      .replace('sympoziuminstance.spec', 'agent.spec');
  }
  doc.setIn(['metadata', 'name'], answers.name);
  if (answers.namespace) doc.setIn(['metadata', 'namespace'], answers.namespace);
  doc.setIn(['spec', 'agents', 'default', 'model'], answers.model);
  if (answers.baseURL) doc.setIn(['spec', 'agents', 'default', 'baseURL'], answers.baseURL);
  if (answers.thinking !== 'off') doc.setIn(['spec', 'agents', 'default', 'thinking'], answers.thinking);
  doc.setIn(['spec', 'authRefs', 0, 'provider'], answers.provider);
  doc.setIn(['spec', 'authRefs', 0, 'secret'], secretName);
  if (answers.policy) doc.setIn(['spec', 'policyRef'], answers.policy);

  const skills = answers.skills.map((skill) => ({ skillPackRef: skill.ref, ...(Object.keys(skill.params).length ? { params: skill.params } : {}) }));
  if (answers.webEndpoint) {
    const params: Record<string, string> = {
      [webEndpointParams.rpm]: String(answers.webEndpoint.rpm),
      [webEndpointParams.burst]: String(answers.webEndpoint.burst),
    };
    if (answers.webEndpoint.hostname) params[webEndpointParams.hostname] = answers.webEndpoint.hostname;
    for (const [key, value] of Object.entries(answers.webEndpoint.params ?? {})) params[key] ??= value;
    skills.push({ skillPackRef: webEndpointSkill, params });
  }
  const spec = doc.get('spec', true) as YAMLMap;
  if (skills.length > 0) {
    section(doc, spec, 'skills', skills, ' SkillPacks mounted into the agent pods; web-endpoint serves the instance as an OpenAI-compatible API.');
  }
  if (answers.channels.length > 0) {
    const channels = answers.channels.map((channel) => ({
      type: channel.type,
      configRef: { secret: channel.secret },
      ...(answers.allowedSenders.length ? { accessControl: { allowedSenders: answers.allowedSenders } } : {}),
    }));
    section(doc, spec, 'channels', channels, ' Chat channels; each reads its token from the named Secret, which you create.');
  }
  if (answers.memory || answers.systemPrompt) {
    const memory: Record<string, unknown> = { enabled: answers.memory };
    if (answers.memory) memory.maxSizeKB = 256;
    if (answers.systemPrompt) memory.systemPrompt = answers.systemPrompt;
    section(doc, spec, 'memory', memory, ' Memory kept between runs, and the system prompt every run starts with.');
  }
  if (answers.observability) {
    const endpoint = answers.observability;
    const http = /^https?:\/\//.test(endpoint) || /:4318(\/|$)/.test(endpoint);
    section(doc, spec, 'observability', { enabled: true, otlpEndpoint: endpoint, otlpProtocol: http ? 'http/protobuf' : 'grpc' }, ' OpenTelemetry export.');
  }
  return doc;
}

function section(doc: Document, map: YAMLMap, key: string, value: unknown, comment: string): void {
  const pair = doc.createPair(key, value);
  if (isScalar(pair.key)) pair.key.commentBefore = comment;
  map.items.push(pair);
}

/**
 * kubectl reads YAML 1.1, where unquoted yes/no/on/off are booleans; the yaml package writes 1.2, where they
 * are strings. Quote such strings so the file means the same to both.
 */
const yaml11Booleans = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
function quoteYaml11Traps(doc: Document): Document {
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && yaml11Booleans.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc;
}
