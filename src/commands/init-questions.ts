import path from 'node:path';
import type { Context } from '../context.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import { resolveAnswer, type AskContext } from '../ui/prompts.js';
import { resolveWriteTarget } from '../files/atomic-write.js';
import {
  builtinSkills,
  channelTypes,
  providerNames,
  providers,
  secretKeys,
  type ChannelType,
  type InitAnswers,
  type InstanceKindName,
  type Provider,
  type SkillAnswer,
  type Thinking,
} from '../sympozium/scaffold.js';
import {
  checkName,
  checkNotEmpty,
  checkObjectName,
  checkUrl,
  flag,
  namespacePattern,
  parseChannelFlag,
  parseSkillFlag,
  readKeys,
} from '../sympozium/init-input.js';
import { webEndpointDefaults, webEndpointSkill } from '../sympozium/types.js';
import { chooseKind, clusterFacts, presetNames } from './init-cluster.js';

// The questions of `sympozium init`: every answer is its flag, else (with --yes or without a terminal) its
// default, else a prompt; the cluster, when one answers (init-cluster.ts), says which kind it serves and which
// namespace the context uses. init.ts writes, checks and applies what comes back.

/** The flags of `sympozium init`, as cli.ts passes them. */
export interface InitOptions {
  name?: string;
  kind?: InstanceKindName;
  provider?: Provider;
  model?: string;
  baseUrl?: string;
  thinking?: Thinking;
  skill?: string[];
  policy?: string;
  channel?: string[];
  allowedSender?: string[];
  /** --memory / --no-memory; undefined when neither was given. */
  memory?: boolean;
  systemPrompt?: string;
  observability?: string;
  webEndpoint?: boolean;
  rpm?: number;
  burst?: number;
  hostname?: string;
  apiKeyEnv?: string;
  out?: string;
  force?: boolean;
  apply?: boolean;
}

/** Whether the file exists; throws (exit 2) when it is not a regular file or a link to one. */
export function existingTarget(file: string): boolean {
  return resolveWriteTarget(file).mode !== undefined;
}

export function refuseOverwrite(target: string): CliError {
  return new CliError(`${target} already exists`, {
    exitCode: ExitCode.usage,
    hint: 'Pass --force to overwrite it, or --out <file> to write somewhere else.',
  });
}

export async function gatherAnswers(options: InitOptions, ctx: Context): Promise<InitAnswers> {
  const ask: AskContext = { prompt: ctx.prompt, interactive: ctx.interactive, yes: ctx.globals.yes };
  const asking = ask.interactive && !ask.yes;

  let name = flag('the instance name', options.name, checkName);
  if (name === undefined) {
    if (ask.yes) name = 'my-agent';
    else if (asking) name = await ctx.prompt.input({ message: 'Instance name', default: 'my-agent', validate: checkName });
    else throw usageError('missing the instance name', 'Pass it as the argument (sympozium init <name>), add --yes for "my-agent", or run in a terminal to be asked.');
  }
  // Before any question: a target that is not a regular file is refused even with --force, and an existing
  // one without --force, so nobody answers every question to be told the file cannot be written.
  if (options.out !== '-' && existingTarget(path.resolve(ctx.cwd, options.out ?? `${name}.yaml`)) && !options.force) {
    throw refuseOverwrite(options.out ?? `${name}.yaml`);
  }

  let namespace = flag('--namespace', ctx.globals.namespace, (value) => (namespacePattern.test(value) ? true : 'must be a namespace name: lowercase letters, digits and "-"'));
  if (namespace === undefined && asking) {
    namespace = (await ctx.prompt.input({ message: "Namespace (empty: your kubectl context's)", default: '' })).trim() || undefined;
  }

  // The cluster, when one answers quickly, decides the kind without --kind, warns when --kind differs from
  // what it serves, and offers its own policies.
  const cluster = await clusterFacts(ctx, namespace);
  const kind = await chooseKind(options.kind, cluster, ask, ctx);

  const provider = await resolveAnswer<Provider>(ask, {
    value: options.provider,
    default: 'openai',
    flag: '--provider',
    ask: (prompt) =>
      prompt.select({ message: 'Model provider', choices: providerNames.map((value) => ({ value, name: providers[value].label })), default: 'openai' }),
  });
  const info = providers[provider];

  const model = await resolveAnswer(ask, {
    value: flag('--model', options.model, checkNotEmpty),
    default: info.model,
    flag: '--model',
    ask: (prompt) => prompt.input({ message: 'Model', default: info.model, validate: checkNotEmpty }),
  });

  let baseURL = flag('--base-url', options.baseUrl, checkUrl);
  if (baseURL === undefined && info.baseURL !== 'optional') {
    const fallback = typeof info.baseURL === 'object' ? info.baseURL.default : undefined;
    baseURL = await resolveAnswer(ask, {
      value: undefined,
      default: fallback,
      flag: '--base-url',
      ask: (prompt) => prompt.input({ message: `${info.label} base URL`, default: fallback, validate: checkUrl }),
    });
  }

  let keys: Record<string, string> | undefined;
  let keySpec = options.apiKeyEnv;
  if (keySpec === undefined && asking && provider !== 'ollama') {
    const [first] = secretKeys(provider);
    // Checked while asking, so a variable that is not set is asked again rather than losing every answer so far.
    const check = (value: string): true | string => {
      if (!value.trim()) return true;
      try {
        readKeys(provider, value.trim(), ctx.env);
        return true;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    };
    keySpec =
      (await ctx.prompt.input({ message: `Environment variable holding your ${info.label} key (empty: write a placeholder, e.g. ${first})`, default: '', validate: check })).trim() ||
      undefined;
  }
  if (keySpec !== undefined) keys = readKeys(provider, keySpec, ctx.env);

  const thinking = await resolveAnswer<Thinking>(ask, {
    value: options.thinking,
    default: 'off',
    flag: '--thinking',
    ask: (prompt) => prompt.select({ message: 'Reasoning effort', choices: (['off', 'low', 'medium', 'high'] as const).map((value) => ({ value })), default: 'off' }),
  });

  const skills = options.skill ? options.skill.map(parseSkillFlag) : undefined;
  const chosenSkills = await resolveAnswer<SkillAnswer[]>(ask, {
    value: skills,
    default: [],
    flag: '--skill',
    ask: async (prompt) =>
      (await prompt.checkbox({ message: 'Skills (SkillPacks) to mount', choices: builtinSkills.map((skill) => ({ value: skill.name, description: skill.description })) })).map(
        (ref) => ({ ref, params: {} }),
      ),
  });
  const duplicate = chosenSkills.find((skill, index) => chosenSkills.findIndex((other) => other.ref === skill.ref) !== index);
  if (duplicate) throw usageError(`--skill ${duplicate.ref} is given twice`, 'Give each SkillPack once, with all its params: --skill name:k=v,k2=v2.');

  const policy = await resolveAnswer(ask, {
    value: flag('--policy', options.policy, checkObjectName),
    // Upstream has no policy named `default`; without --policy, --yes writes no policyRef.
    default: '',
    flag: '--policy',
    ask: async (prompt) => {
      // Upstream looks the policy up in the instance's own namespace and fails every run when it is missing,
      // so none is the safe default; a preset must exist in that namespace first. The cluster's own policies
      // there, when it was reachable, come first.
      const own = cluster?.policies ?? [];
      const presets = presetNames(kind).filter((name) => !own.includes(name));
      const choice = await prompt.select({
        message: 'Policy (SympoziumPolicy)',
        choices: [
          { value: '(none)', name: 'none' },
          ...own.map((value) => ({ value, name: `${value} (exists in ${cluster!.namespace})` })),
          ...presets.map((value) => ({ value, name: `${value} (upstream's preset; must exist in the instance's namespace)` })),
          { value: '(another)', name: 'another policy...' },
        ],
        default: '(none)',
      });
      if (choice === '(none)') return '';
      return choice === '(another)' ? prompt.input({ message: 'Policy name', validate: checkObjectName }) : choice;
    },
  });

  const channels = await resolveAnswer(ask, {
    value: options.channel?.map(parseChannelFlag),
    default: [],
    flag: '--channel',
    ask: async (prompt) => {
      const types = await prompt.checkbox<ChannelType>({ message: 'Chat channels', choices: channelTypes.map((value) => ({ value: value as ChannelType })) });
      const chosen: { type: ChannelType; secret: string }[] = [];
      for (const type of types) {
        chosen.push({ type, secret: await prompt.input({ message: `Secret holding the ${type} token`, default: `${name}-${type}`, validate: checkObjectName }) });
      }
      return chosen;
    },
  });
  let allowedSenders = options.allowedSender?.map((sender) => flag('--allowed-sender', sender, checkNotEmpty)) ?? [];
  if (allowedSenders.length > 0 && channels.length === 0) throw usageError('--allowed-sender needs a channel', 'Add --channel <type>:<secret>.');
  if (options.allowedSender === undefined && channels.length > 0 && asking) {
    const answer = await ctx.prompt.input({ message: 'Allowed sender IDs, comma-separated (empty: everyone)', default: '' });
    allowedSenders = answer.split(',').map((sender) => sender.trim()).filter(Boolean);
  }

  if (options.memory === false && options.systemPrompt !== undefined) {
    ctx.out.debug('init: --system-prompt with --no-memory: the prompt is kept, memory stays off');
  }
  const memory = await resolveAnswer(ask, {
    value: options.memory ?? (options.systemPrompt !== undefined ? true : undefined),
    default: false,
    flag: '--memory',
    ask: (prompt) => prompt.confirm({ message: 'Keep memory between runs?', default: false }),
  });
  let systemPrompt = options.systemPrompt;
  if (systemPrompt === undefined && memory && asking) {
    systemPrompt = (await ctx.prompt.input({ message: 'System prompt (empty: none)', default: '' })).trim() || undefined;
  }

  const observability = await resolveAnswer(ask, {
    value: flag('--observability', options.observability, checkNotEmpty),
    default: '',
    flag: '--observability',
    ask: (prompt) => prompt.input({ message: 'OpenTelemetry OTLP endpoint (empty: off)', default: '' }),
  });

  const impliedWeb = options.rpm !== undefined || options.burst !== undefined || options.hostname !== undefined;
  const fromSkill = chosenSkills.find((skill) => skill.ref === webEndpointSkill);
  const web = await resolveAnswer(ask, {
    value: options.webEndpoint ?? (impliedWeb || fromSkill ? true : undefined),
    default: false,
    flag: '--web-endpoint',
    ask: (prompt) => prompt.confirm({ message: 'Serve it as an OpenAI-compatible API (web endpoint)?', default: false }),
  });
  let webEndpoint: InitAnswers['webEndpoint'];
  if (web) {
    const number = (value: string) => (/^[1-9][0-9]*$/.test(value.trim()) ? true : 'must be a positive whole number');
    const fromParams = (key: string) => {
      const value = fromSkill?.params[key];
      if (value === undefined) return undefined;
      if (number(value) !== true) throw usageError(`--skill web-endpoint: ${key} must be a positive whole number, not "${value}"`);
      return Number(value);
    };
    const rpm = options.rpm ?? fromParams('rate_limit_rpm') ?? Number(await resolveAnswer(ask, {
      value: undefined,
      default: String(webEndpointDefaults.rpm),
      flag: '--rpm',
      ask: (prompt) => prompt.input({ message: 'Rate limit: requests per minute', default: String(webEndpointDefaults.rpm), validate: number }),
    }));
    const burst = options.burst ?? fromParams('rate_limit_burst') ?? Number(await resolveAnswer(ask, {
      value: undefined,
      default: String(webEndpointDefaults.burst),
      flag: '--burst',
      ask: (prompt) => prompt.input({ message: 'Rate limit: burst size', default: String(webEndpointDefaults.burst), validate: number }),
    }));
    const hostname = flag('--hostname', options.hostname ?? fromSkill?.params.hostname, checkObjectName) ??
      ((await resolveAnswer(ask, {
        value: undefined,
        default: '',
        flag: '--hostname',
        ask: (prompt) => prompt.input({ message: 'Public hostname (empty: reachable inside the cluster only)', default: '', validate: (value) => (value === '' ? true : checkObjectName(value)) }),
      })) || undefined);
    webEndpoint = { rpm, burst, hostname, params: fromSkill?.params };
  }

  return {
    name,
    kind,
    namespace,
    provider,
    model: model!,
    baseURL,
    thinking,
    skills: chosenSkills.filter((skill) => skill.ref !== webEndpointSkill),
    policy,
    channels,
    allowedSenders,
    memory,
    systemPrompt,
    observability: observability || undefined,
    webEndpoint,
    keys,
  };
}
