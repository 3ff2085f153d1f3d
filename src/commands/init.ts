import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Context } from '../context.js';
import { CliError, ExitCode, usageError } from '../errors.js';
import { resolveAnswer, type AskContext } from '../ui/prompts.js';
import { resolveWriteTarget, writeFileAtomic } from '../files/atomic-write.js';
import { parseManifests } from '../sympozium/manifests.js';
import {
  builtinSkills,
  channelTypes,
  instanceKinds,
  kubectlSecretCommand,
  providerNames,
  providers,
  scaffold,
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
import { defaultRelease, upstreamBuiltins } from '../sympozium/releases.js';
import { webEndpointDefaults, webEndpointSkill } from '../sympozium/types.js';
import { formatProblem, hasErrors, validateDocuments } from '../sympozium/validate.js';

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

export async function init(options: InitOptions, ctx: Context): Promise<void> {
  if (options.apply && options.out === '-') {
    throw usageError('--apply needs a file, and --out - writes to stdout', 'Drop --out - (init writes <name>.yaml), or pipe: sympozium init ... --out - | sympozium apply -f -');
  }
  const answers = await gatherAnswers(options, ctx);
  const target = options.out ?? `${answers.name}.yaml`;
  const file = target === '-' ? undefined : path.resolve(ctx.cwd, target);
  const result = scaffold(answers);
  assertValid(result.text);

  if (!file) {
    ctx.out.write(result.text);
  } else {
    if (!options.force && existingTarget(file)) throw refuseOverwrite(target);
    try {
      writeFileAtomic(file, result.text, { mode: result.holdsKey ? 0o600 : 0o644, overwrite: Boolean(options.force), secret: result.holdsKey });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw refuseOverwrite(target);
      if (error instanceof CliError) throw error;
      throw new CliError(`cannot write ${target}: ${(error as Error).message}`, { cause: error, hint: 'Choose another place with --out <file>.' });
    }
    ctx.out.success(`wrote ${target}: Secret ${result.secretName} and ${answers.kind ?? 'SympoziumInstance'} ${answers.name}${result.holdsKey ? ' (mode 0600: it holds your key)' : ''}`);
  }
  printNextSteps(answers, result, target, options, ctx);
  if (options.apply && file) await applyResult(file, result, answers, ctx);
}

/**
 * Hands the file to apply. A placeholder Secret is never applied: it would put a fake key on the cluster, or
 * overwrite a real one created with kubectl. The instance alone goes through a temporary file instead (apply
 * takes paths), and the warning says how to create the Secret.
 */
async function applyResult(file: string, result: ReturnType<typeof scaffold>, answers: InitAnswers, ctx: Context): Promise<void> {
  const { apply } = await import('./apply.js');
  const options = { dryRun: undefined, forceConflicts: false, wait: false, timeoutMs: 120_000 };
  if (!result.placeholder) {
    await apply({ paths: [file], ...options }, ctx);
    return;
  }
  ctx.out.warn(`not applying Secret ${result.secretName}: it holds a placeholder. Create it with: ${kubectlSecretCommand(answers)}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'sympozium-init-'));
  try {
    const instanceOnly = path.join(dir, path.basename(file));
    await writeFile(instanceOnly, result.instanceText, { mode: 0o600 });
    await apply({ paths: [instanceOnly], ...options }, ctx);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Whether the file exists; throws (exit 2) when it is not a regular file or a link to one. */
function existingTarget(file: string): boolean {
  return resolveWriteTarget(file).mode !== undefined;
}

function refuseOverwrite(target: string): CliError {
  return new CliError(`${target} already exists`, {
    exitCode: ExitCode.usage,
    hint: 'Pass --force to overwrite it, or --out <file> to write somewhere else.',
  });
}

/** Everything init writes must pass validate; if it does not, that is a bug in sympozium, not the user's fault. */
function assertValid(text: string): void {
  const parsed = parseManifests(text, '<generated>');
  const problems = [...parsed.problems, ...validateDocuments(parsed.documents)];
  if (hasErrors(problems)) throw new Error(`init generated an invalid manifest:\n${problems.map(formatProblem).join('\n')}`);
}

function printNextSteps(answers: InitAnswers, result: ReturnType<typeof scaffold>, target: string, options: InitOptions, ctx: Context): void {
  const file = target === '-' ? '<file>' : target;
  const steps: string[] = target === '-' ? ['save the manifest to a file, or pipe it straight into: sympozium apply -f -'] : [];
  if (result.placeholder) {
    const [key] = secretKeys(answers.provider);
    ctx.out.warn(`${target === '-' ? 'the manifest' : file} holds a placeholder instead of your ${providers[answers.provider].label} key.`);
    steps.push(`create the Secret from your environment (then delete its document from ${target === '-' ? 'the manifest' : file}):`, `  ${kubectlSecretCommand(answers)}`);
    const keys = secretKeys(answers.provider);
    // Bedrock keeps three values; each is read from the variable of its own name unless KEY=VAR says otherwise.
    steps.push(
      keys.length > 1
        ? `  or export ${keys.slice(0, -1).join(', ')} and ${keys.at(-1)}, and run init again with --api-key-env ${key} to put them in the file`
        : `  or run init again with --api-key-env ${key} to put the key in the file`,
    );
  }
  for (const channel of answers.channels) steps.push(`create Secret ${channel.secret} with the ${channel.type} token before applying`);
  if (!options.apply) {
    steps.push(`sympozium validate -f ${file}`, `sympozium apply -f ${file} --wait`);
  }
  steps.push(answers.webEndpoint ? `sympozium chat ${answers.name} "hello"` : `sympozium enable web-endpoint ${answers.name}    # then: sympozium chat ${answers.name} "hello"`);
  ctx.out.hint(['Next:', ...steps.map((step) => `  ${step}`)].join('\n'));
}

async function gatherAnswers(options: InitOptions, ctx: Context): Promise<InitAnswers> {
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

interface ClusterFacts {
  where: string;
  namespace: string;
  /** The instance kind the cluster serves; undefined when Sympozium is not installed there. */
  kind?: InstanceKindName;
  policies: string[];
}

/** How long init waits for a cluster it does not need: it works offline, so an unreachable one must not stall it. */
const clusterProbeMs = 1500;

/**
 * What the current kubectl context's cluster serves, if it answers quickly: the instance kind (Agent from
 * Sympozium v0.10, SympoziumInstance before) and the SympoziumPolicies of the target namespace. Undefined when
 * there is no kubeconfig or the cluster does not answer: init then works offline.
 */
async function clusterFacts(ctx: Context, namespace: string | undefined): Promise<ClusterFacts | undefined> {
  try {
    const kube = await ctx.kube();
    const discovery = await kube
      .request<{ resources?: { name: string }[] }>({ path: '/apis/sympozium.ai/v1alpha1', timeoutMs: clusterProbeMs })
      .then((response) => response.body)
      .catch((error: unknown) => {
        if ((error as { code?: number }).code === 404) return undefined;
        throw error;
      });
    const served = new Set((discovery?.resources ?? []).map((resource) => resource.name));
    const kind = served.has('sympoziuminstances') ? 'SympoziumInstance' : served.has('agents') ? 'Agent' : undefined;
    const target = namespace ?? kube.namespace;
    const policies = served.has('sympoziumpolicies')
      ? await kube
          .request<{ items?: { metadata?: { name?: string } }[] }>({ path: `/apis/sympozium.ai/v1alpha1/namespaces/${encodeURIComponent(target)}/sympoziumpolicies`, timeoutMs: clusterProbeMs })
          .then((response) => (response.body.items ?? []).map((item) => item.metadata?.name).filter((name): name is string => Boolean(name)))
          .catch(() => [])
      : [];
    return { where: kube.describe(), namespace: target, kind, policies };
  } catch (error) {
    ctx.out.debug(`init: no cluster to ask (${(error as Error).message}); working offline`);
    return undefined;
  }
}

/**
 * --kind, else asked on a terminal (defaulting to what the cluster serves), else what a reachable cluster serves
 * (said on stderr), else SympoziumInstance: the kind of v0.5.8, the release the CLI targets offline.
 */
async function chooseKind(given: InstanceKindName | undefined, cluster: ClusterFacts | undefined, ask: AskContext, ctx: Context): Promise<InstanceKindName> {
  const served = cluster?.kind;
  if (given) {
    if (served && served !== given) {
      ctx.out.warn(`${cluster!.where} serves ${served}, not ${given}: apply will refuse this file there (sympozium migrate converts v0.5 manifests to v0.10)`);
    }
    return given;
  }
  const fallback: InstanceKindName = served ?? 'SympoziumInstance';
  if (ask.interactive && !ask.yes) {
    return ctx.prompt.select<InstanceKindName>({
      message: served ? `Kind (${cluster!.where} serves ${served})` : 'Kind',
      choices: instanceKinds.map((value) => ({ value, name: value === 'Agent' ? 'Agent (Sympozium v0.10 and later)' : 'SympoziumInstance (Sympozium v0.5)' })),
      default: fallback,
    });
  }
  if (served) ctx.out.info(`writing ${served === 'Agent' ? 'an Agent' : 'a SympoziumInstance'}: ${cluster!.where} serves that kind (pass --kind to choose)`);
  return fallback;
}

/** Upstream's policy presets (config/policies) of the release that serves the kind. */
function presetNames(kind: InstanceKindName): string[] {
  const release = kind === 'Agent' ? 'v0.10.46' : defaultRelease;
  return upstreamBuiltins(release).policies.map((policy) => (policy.metadata as { name: string }).name);
}
