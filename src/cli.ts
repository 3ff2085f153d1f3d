import { Command, Option } from 'commander';
import type { Context, GlobalOptions } from './context.js';
import { usageError } from './errors.js';
import { requireName } from './kube/names.js';
import { outputFormats, type OutputFormat } from './ui/output.js';
import { parseDuration } from './duration.js';

/**
 * The whole command surface in one place: every command, flag, alias and example. Actions only tidy their
 * options and lazily import the module that does the work, so `--version` and `--help` load nothing heavy.
 */

export type RunCommand = (command: Command, work: (ctx: Context) => Promise<void>) => Promise<void>;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The flags every command that sends the endpoint's API key shares: where the key comes from, and http. */
function keyOptions(command: Command): Command {
  return command
    .option('--key <key>', 'the API key (else --key-file, $SYMPOZIUM_API_KEY, the key Secret); other users can see it in `ps`')
    .option('--key-file <path>', 'read the API key from this file, or - for stdin (not visible in `ps`)')
    .option('--allow-http', 'allow sending the key over plain http:// to a host that is not loopback');
}

function positiveInteger(flag: string) {
  return (value: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed <= 0) throw usageError(`${flag} must be a positive whole number, not "${value}"`);
    return parsed;
  };
}

function nonNegativeInteger(flag: string) {
  return (value: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) throw usageError(`${flag} must be a whole number (0 or more), not "${value}"`);
    return parsed;
  };
}

/** A TCP port to listen on; 0 asks for any free one. */
function listenPort(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw usageError(`--port must be a port number from 0 to 65535, not "${value}"`);
  return parsed;
}

/** Formats of `env` and `proxy`: listed here rather than imported, so help loads nothing else. */
const envFormatChoices = ['shell', 'dotenv', 'json', 'fish', 'powershell'];

function duration(flag: string) {
  return (value: string) => {
    const parsed = parseDuration(value);
    if (parsed === undefined || parsed <= 0) {
      throw usageError(`${flag} must be a duration such as 30s, 5m or 1h30m, not "${value}"`);
    }
    return parsed;
  };
}

/** `--timeout`, whose default help shows as a duration (`5m`), the form the flag itself takes. */
function timeoutOption(description: string, defaultText: string): Option {
  return new Option('--timeout <duration>', description).argParser(duration('--timeout')).default(parseDuration(defaultText), defaultText);
}

/** Run phases, including the later upstream ones; matched without regard to case. */
const runPhases = ['Pending', 'Running', 'Serving', 'Succeeded', 'Failed', 'PostRunning', 'AwaitingDelegate', 'Skipped'];

function runPhase(value: string): string {
  const phase = runPhases.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
  if (!phase) throw usageError(`--phase must be one of ${runPhases.join(', ')}, not "${value}"`);
  return phase;
}

/**
 * Parsers for arguments and flags that name objects: a name the API server would refuse is refused here,
 * exit 2, before any request (an empty one would otherwise address the whole collection). Namespaces are
 * DNS labels; instances, runs and Secrets DNS subdomains, as the API server validates them.
 */
const instanceName = (value: string) => requireName(value, 'subdomain', 'instance name');
const runName = (value: string) => requireName(value, 'subdomain', 'run name');
const secretName = (flag: string) => (value: string) => requireName(value, 'subdomain', flag);
const namespaceName = (value: string) => requireName(value, 'label', 'namespace', { hint: 'Pass a namespace name with -n, or leave -n out for the context\'s namespace (-A where a command lists every namespace).' });

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
}

export const overview = `sympozium: scaffold, apply, serve and chat with Sympozium AI agents on Kubernetes.

Start here:
  sympozium dev up                      a local control plane, no cluster needed
  sympozium init demo --yes             scaffold demo.yaml (a SympoziumInstance)
  sympozium apply -f demo.yaml --wait   create it on the cluster
  sympozium enable web-endpoint demo    serve it as an OpenAI-compatible API
  sympozium chat demo "hello"           talk to it

Every command: sympozium --help   One command: sympozium <command> --help
`;

/** Reads the global flags once, at the boundary. */
export function readGlobals(command: Command): GlobalOptions {
  const raw = command.optsWithGlobals() as Record<string, unknown>;
  const source = command.getOptionValueSourceWithGlobals?.('output');
  return {
    kubeconfig: raw.kubeconfig as string | undefined,
    context: raw.context as string | undefined,
    namespace: raw.namespace as string | undefined,
    output: (raw.output as OutputFormat | undefined) ?? 'table',
    outputExplicit: source === 'cli',
    yes: Boolean(raw.yes),
    quiet: Boolean(raw.quiet),
    verbose: Boolean(raw.verbose),
    color: raw.color !== false,
    requestTimeoutMs: raw.requestTimeout as number | undefined,
    as: raw.as as string | undefined,
    asGroups: raw.asGroup as string[] | undefined,
    asUid: raw.asUid as string | undefined,
  };
}

/**
 * Output formats of the commands that cannot print every one: asking them for another is refused (exit 2)
 * rather than silently answered in a different format. Commands not listed print them all.
 */
export const outputFormatsOf: Record<string, OutputFormat[]> = {
  init: ['table'],
  'instances describe': ['table', 'json', 'yaml'],
  'instances delete': ['table', 'name'],
  doctor: ['table', 'json', 'yaml'],
  'dev up': ['table', 'json', 'yaml'],
  'dev status': ['table', 'json', 'yaml'],
  'dev env': ['table'],
  'dev logs': ['table'],
  completion: ['table'],
  version: ['table', 'json', 'yaml'],
  'enable web-endpoint': ['table', 'json', 'yaml'],
  'disable web-endpoint': ['table', 'json', 'yaml'],
  'key show': ['table', 'json', 'yaml'],
  'key rotate': ['table', 'json', 'yaml'],
  chat: ['table', 'json', 'yaml'],
  env: ['table', 'json'],
  proxy: ['table', 'json'],
  validate: ['table', 'json', 'yaml'],
  run: ['table', 'json', 'yaml', 'name'],
  'runs cancel': ['table', 'json', 'yaml'],
  'runs logs': ['table'],
  'runs delete': ['table', 'json', 'yaml'],
  migrate: ['table', 'json', 'yaml'],
};

/** `instances delete` for the command object of that subcommand. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current?.parent; current = current.parent) names.unshift(current.name());
  return names.join(' ');
}

/** Every top-level command, in the order help lists them. */
export const knownCommands = ['init', 'validate', 'apply', 'migrate', 'instances', 'enable', 'disable', 'key', 'run', 'runs', 'chat', 'models', 'env', 'proxy', 'mcp', 'doctor', 'dev', 'completion', 'version'];

/** Top-level commands' aliases, so the surface can be built for one command only. */
const commandAliases: Record<string, string[]> = { instances: ['inst', 'agents', 'instance'] };

/** Global options that take a value: their value is not the command name. */
const globalsWithValue = new Set(['--kubeconfig', '--context', '-n', '--namespace', '-o', '--output', '--request-timeout', '--as', '--as-group', '--as-uid']);

/**
 * The top-level command named on a command line, if any: the first word that is neither an option nor the
 * value of a global option. `undefined` for `--version`, `--help` and bare options.
 */
export function commandNameOf(args: string[]): string | undefined {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === '--') return undefined;
    if (arg.startsWith('-')) {
      if (globalsWithValue.has(arg)) index++;
      continue;
    }
    return Object.entries(commandAliases).find(([, aliases]) => aliases.includes(arg))?.[0] ?? arg;
  }
  return undefined;
}

/**
 * Builds the command surface. With `only`, just that top-level command is registered: building all of them is
 * a measurable part of start-up, and a command line names one. Help, version and unknown commands (which
 * need the full list for "did you mean") build everything.
 */
export function buildProgram(version: string, run: RunCommand, only?: string): Command {
  const wanted = (name: string) => only === undefined || only === name;
  const program = new Command('sympozium')
    .description('The CLI for Sympozium instances: AI agents that run as pods on Kubernetes.')
    .version(version, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <ns>', "namespace (default: the context's, else \"default\")", namespaceName)
    .option('--as <user>', 'user to impersonate for the cluster requests')
    .option('--as-group <group>', 'group to impersonate (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--as-uid <uid>', 'UID to impersonate')
    .addOption(new Option('-o, --output <format>', 'output format').choices([...outputFormats]))
    .option('-y, --yes', 'never prompt; take the defaults')
    .option('-q, --quiet', 'print only results and errors')
    .option('-v, --verbose', 'print requests, decisions and timings on stderr (never secrets)')
    .option('--no-color', 'no colours (NO_COLOR and FORCE_COLOR are honoured too)')
    .option('--request-timeout <duration>', 'timeout for each request to the cluster', duration('--request-timeout'))
    // Inherited by every subcommand created below: errors come back to main.ts instead of process.exit().
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true });

  if (wanted('init')) {
    program
      .command('init [name]')
      .description('scaffold a SympoziumInstance or Agent manifest (and its provider Secret) from the bundled templates')
      .addOption(
        new Option('--kind <kind>', "SympoziumInstance (Sympozium v0.5) or Agent (v0.10); default: what the cluster serves, offline SympoziumInstance").choices([
          'SympoziumInstance',
          'Agent',
        ]),
      )
      .addOption(
        new Option('--provider <provider>', 'model provider').choices([
          'openai',
          'anthropic',
          'azure-openai',
          'ollama',
          'bedrock',
          'custom',
        ]),
      )
      .option('--model <model>', 'model name (default depends on the provider)')
      .option('--base-url <url>', 'OpenAI-compatible base URL (custom, ollama, azure-openai)')
      .addOption(new Option('--thinking <level>', 'reasoning effort').choices(['off', 'low', 'medium', 'high']))
      .option('--skill <ref[:k=v,...]>', 'a SkillPack to mount, with params (repeatable)', collect)
      .option('--policy <name>', "SympoziumPolicy in the instance's namespace: upstream's presets permissive, restrictive, network-isolated, or your own (default: none)")
      .option('--channel <type:secret>', 'a channel and its Secret, e.g. telegram:telegram-creds (repeatable)', collect)
      .option('--allowed-sender <id>', 'sender allowed to talk to the channels (repeatable)', collect)
      .option('--memory', 'enable memory')
      .option('--no-memory', 'disable memory')
      .option('--system-prompt <text>', 'system prompt kept in memory')
      .option('--observability <endpoint>', 'OpenTelemetry OTLP endpoint (enables observability)')
      .option('--web-endpoint', 'serve the instance as an OpenAI-compatible API (adds the web-endpoint skill)')
      .option('--rpm <n>', 'web endpoint rate limit: requests per minute', positiveInteger('--rpm'))
      .option('--burst <n>', 'web endpoint rate limit: burst size', positiveInteger('--burst'))
      .option('--hostname <host>', 'web endpoint hostname')
      .option('--api-key-env <VAR>', 'read the provider API key from this environment variable into the Secret (Bedrock: KEY=VAR pairs, comma-separated)')
      .option('--out <file>', 'where to write the manifest; - for stdout (default: <name>.yaml)')
      .option('--force', 'overwrite an existing file')
      .option('--apply', 'apply the result to the cluster right away')
      .addHelpText(
        'after',
        examples(
          'sympozium init                                    # answer the questions',
          'sympozium init demo --provider openai --model gpt-4.1 --yes',
          'sympozium init demo --kind Agent --yes                 # for Sympozium v0.10 and later',
          'sympozium init demo --provider ollama --base-url http://ollama:11434/v1 --web-endpoint --yes --out -',
          'OPENAI_API_KEY=sk-... sympozium init demo --api-key-env OPENAI_API_KEY --yes --apply',
        ),
      )
      .action((name: string | undefined, options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          const { init } = await import('./commands/init.js');
          await init({ ...options, name } as import('./commands/init.js').InitOptions, ctx);
        }),
      );
  }

  if (wanted('validate')) {
    program
      .command('validate')
      .description('check manifests offline against the bundled schemas')
      .requiredOption('-f, --filename <path...>', 'files, directories (recursive) or - for stdin')
      .option('--cluster', "also check against the cluster's own CRD schemas")
      // Listed here rather than imported: the release data is large and loads only when validate runs.
      .addOption(
        new Option('--release <release>', "judge Sympozium kinds by this release's CRDs (default: the document's own, else v0.5.8)").choices([
          'v0.5.8',
          'v0.10.46',
        ]),
      )
      .addHelpText(
        'after',
        examples('sympozium validate -f demo.yaml', 'sympozium validate -f agent.yaml --release v0.10.46', 'sympozium validate -f manifests/ -o json', 'cat demo.yaml | sympozium validate -f -'),
      )
      .action((options: { filename: string[]; cluster?: boolean; release?: string }, command: Command) =>
        run(command, async (ctx) => {
          const { validate } = await import('./commands/validate.js');
          await validate({ paths: options.filename, cluster: Boolean(options.cluster), release: options.release }, ctx);
        }),
      );
  }

  if (wanted('apply')) {
    program
      .command('apply')
      .description('validate every document, then server-side apply them in dependency order')
      .requiredOption('-f, --filename <path...>', 'files, directories (recursive) or - for stdin')
      .addOption(new Option('--dry-run <mode>', 'only show what would happen').choices(['client', 'server']))
      .option('--force-conflicts', 'take ownership of fields another manager owns')
      .option('--wait', 'wait until applied instances leave Pending')
      .addOption(timeoutOption('how long --wait may take', '2m'))
      .addHelpText(
        'after',
        examples('sympozium apply -f demo.yaml', 'sympozium apply -f manifests/ --wait', 'sympozium init demo --yes --out - | sympozium apply -f -'),
      )
      .action((options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          const { apply } = await import('./commands/apply.js');
          await apply(
            {
              paths: options.filename as string[],
              dryRun: options.dryRun as 'client' | 'server' | undefined,
              forceConflicts: Boolean(options.forceConflicts),
              wait: Boolean(options.wait),
              timeoutMs: options.timeout as number,
            },
            ctx,
          );
        }),
      );
  }

  if (wanted('migrate')) {
    program
      .command('migrate')
      .description('convert v0.5.8 manifests to v0.10.46 (Agent, Ensemble, agentRef), keeping comments and key order')
      .option('-f, --filename <path...>', 'files, directories (recursive) or - for stdin')
      .option('--out <dir|->', 'a directory to write the migrated files under (same relative names), or - for stdout', '-')
      .option('--force', 'with --out <dir>: replace files that exist')
      .option('--from-cluster', "read the namespace's v0.5 objects from the cluster instead of files (the cluster is only read)")
      .option('--include-runs', 'with --from-cluster: AgentRuns too (applying a run starts it again)')
      .addHelpText(
        'after',
        examples(
          'sympozium migrate -f demo.yaml                                # the v0.10.46 manifest on stdout',
          'sympozium migrate -f manifests/ --out manifests-v0.10/',
          'sympozium migrate -f manifests/ --out manifests/ --force      # in place',
          'cat demo.yaml | sympozium migrate -f - | sympozium validate -f - --release v0.10.46',
          'sympozium migrate --from-cluster -n team-a --out team-a/',
        ),
      )
      .action((options: { filename?: string[]; out: string; force?: boolean; fromCluster?: boolean; includeRuns?: boolean }, command: Command) =>
        run(command, async (ctx) => {
          const { migrate } = await import('./commands/migrate.js');
          await migrate(
            {
              paths: options.filename ?? [],
              out: options.out,
              force: Boolean(options.force),
              fromCluster: Boolean(options.fromCluster),
              includeRuns: Boolean(options.includeRuns),
            },
            ctx,
          );
        }),
      );
  }

  if (wanted('instances')) {
    const instances = program
      .command('instances')
      .aliases(['inst', 'agents', 'instance'])
      .description('list, inspect and delete SympoziumInstances')
      .addHelpText('after', examples('sympozium instances list -A', 'sympozium inst describe demo', 'sympozium instances delete demo'));
    instances
      .command('list')
      .alias('ls')
      .description('list instances: phase, model, skills, web endpoint, active pods')
      .option('-A, --all-namespaces', 'every namespace')
      .option('-l, --selector <selector>', 'label selector')
      .addHelpText('after', examples('sympozium instances list', 'sympozium instances list -A -o wide', 'sympozium instances list -o name'))
      .action((options: { allNamespaces?: boolean; selector?: string }, command: Command) =>
        run(command, async (ctx) => {
          const { listInstances } = await import('./commands/instances.js');
          await listInstances({ allNamespaces: Boolean(options.allNamespaces), selector: options.selector }, ctx);
        }),
      );
    instances
      .command('get')
      .argument('<name>', 'the instance', instanceName)
      .description('one instance (the whole object with -o json|yaml)')
      .addHelpText('after', examples('sympozium instances get demo', 'sympozium instances get demo -o yaml'))
      .action((name: string, _options: unknown, command: Command) =>
        run(command, async (ctx) => {
          const { getInstance } = await import('./commands/instances.js');
          await getInstance({ name }, ctx);
        }),
      );
    instances
      .command('describe')
      .argument('<name>', 'the instance', instanceName)
      .description('an instance in detail: spec, status, conditions, web endpoint and recent AgentRuns')
      .addHelpText('after', examples('sympozium instances describe demo'))
      .action((name: string, _options: unknown, command: Command) =>
        run(command, async (ctx) => {
          const { describeInstance } = await import('./commands/instances.js');
          await describeInstance({ name }, ctx);
        }),
      );
    instances
      .command('delete')
      .argument('[names...]', 'the instances to delete', (value: string, previous: string[] = []) => [...previous, instanceName(value)])
      .alias('rm')
      .description('delete instances and wait until their finalizers have run')
      .option('--all', 'every instance in the namespace (asks first; --yes without a terminal)')
      .option('-l, --selector <selector>', 'the instances matching this label selector (asks first; --yes without a terminal)')
      .option('--no-wait', 'return as soon as the deletion is accepted')
      .addOption(timeoutOption('how long to wait', '2m'))
      .addHelpText(
        'after',
        examples('sympozium instances delete demo', 'sympozium instances delete demo other --no-wait', 'sympozium instances delete -l team=search --yes'),
      )
      .action((names: string[], options: { all?: boolean; selector?: string; wait: boolean; timeout: number }, command: Command) =>
        run(command, async (ctx) => {
          const { deleteInstances } = await import('./commands/instances.js');
          await deleteInstances({ names, all: Boolean(options.all), selector: options.selector, wait: options.wait, timeoutMs: options.timeout }, ctx);
        }),
      );
  }

  // Created through program.command() so that they inherit exitOverride, help and suggestion settings.
  const webEndpointFeature = (verb: 'enable' | 'disable') =>
    program
      .command(verb)
      .description(`${verb} a feature of an instance`)
      .addHelpText('after', examples(`sympozium ${verb} web-endpoint demo`));

  if (wanted('enable')) {
    const enable = webEndpointFeature('enable');
    enable
      .command('web-endpoint')
      .argument('<instance>', 'the instance', instanceName)
      .description('serve the instance as an OpenAI-compatible API and wait until it answers')
      .option('--rpm <n>', 'rate limit: requests per minute (default 60)', positiveInteger('--rpm'))
      .option('--burst <n>', 'rate limit: burst size (default 10)', positiveInteger('--burst'))
      .option('--hostname <host>', 'public hostname for the HTTPRoute')
      .option('--auth-secret <name>', "use this Secret's api-key instead of a generated key", secretName('--auth-secret'))
      .option('--recreate', 'delete a Failed server run so the controller makes a new one (upstream never replaces it); asks first unless --yes')
      .option('--no-wait', 'return once the instance is updated')
      .addOption(timeoutOption('how long to wait until it serves', '5m'))
      .addHelpText(
        'after',
        examples(
          'sympozium enable web-endpoint demo',
          'sympozium enable web-endpoint demo --rpm 120 --burst 20 --hostname demo.example.com',
          'sympozium enable web-endpoint demo --recreate --yes    # after fixing what made its server run fail',
        ),
      )
      .action((instance: string, options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          const { enableWebEndpoint } = await import('./commands/enable.js');
          await enableWebEndpoint(
            {
              instance,
              rpm: options.rpm as number | undefined,
              burst: options.burst as number | undefined,
              hostname: options.hostname as string | undefined,
              authSecret: options.authSecret as string | undefined,
              recreate: Boolean(options.recreate),
              wait: options.wait as boolean,
              timeoutMs: options.timeout as number,
            },
            ctx,
          );
        }),
      );
  }

  if (wanted('disable')) {
    const disable = webEndpointFeature('disable');
    disable
      .command('web-endpoint')
      .argument('<instance>', 'the instance', instanceName)
      .description('stop serving the instance as an API and wait for the teardown')
      .option('--no-wait', 'return once the instance is updated')
      .addOption(timeoutOption('how long to wait for the teardown', '2m'))
      .addHelpText('after', examples('sympozium disable web-endpoint demo'))
      .action((instance: string, options: { wait: boolean; timeout: number }, command: Command) =>
        run(command, async (ctx) => {
          const { disableWebEndpoint } = await import('./commands/enable.js');
          await disableWebEndpoint({ instance, wait: options.wait, timeoutMs: options.timeout }, ctx);
        }),
      );
  }

  if (wanted('key')) {
    const key = program
      .command('key')
      .description("the web endpoint's API key")
      .addHelpText('after', examples('sympozium key show demo', 'sympozium key show demo --reveal', 'sympozium key rotate demo'));
    key
      .command('show')
      .argument('<instance>', 'the instance', instanceName)
      .description('show the API key (masked unless --reveal) and the Secret it lives in')
      .option('--reveal', 'print the whole key')
      .addHelpText(
        'after',
        examples('sympozium key show demo', 'export SYMPOZIUM_API_KEY=$(sympozium key show demo --reveal)', 'sympozium key show demo -o json'),
      )
      .action((instance: string, options: { reveal?: boolean }, command: Command) =>
        run(command, async (ctx) => {
          const { showKey } = await import('./commands/key.js');
          await showKey({ instance, reveal: Boolean(options.reveal) }, ctx);
        }),
      );
    key
      .command('rotate')
      .argument('<instance>', 'the instance', instanceName)
      .description('write a new key, make the proxy use it, and wait until the old one is refused')
      .addOption(timeoutOption('how long to wait for the new key to work', '3m'))
      .option('--allow-http', 'allow the key checks over plain http:// to a host that is not loopback')
      .addHelpText('after', examples('sympozium key rotate demo'))
      .action((instance: string, options: { timeout: number; allowHttp?: boolean }, command: Command) =>
        run(command, async (ctx) => {
          const { rotateKey } = await import('./commands/key.js');
          await rotateKey({ instance, timeoutMs: options.timeout, allowHttp: Boolean(options.allowHttp) }, ctx);
        }),
      );
  }

  if (wanted('run')) {
    program
      .command('run')
      .argument('<instance>', 'the instance', instanceName)
      .argument('[task]', 'the task (else -f, else piped stdin)')
      .description('run one task on an instance and follow it to the end: phases on stderr, the result on stdout')
      .option('-f, --filename <file>', 'read the task from a file, or - for stdin')
      .option('--no-wait', 'print the run name and return once it is created')
      .option('--logs', "stream the agent's log lines to stderr while following")
      .addOption(timeoutOption('how long to follow the run', '15m'))
      .option('--cancel-on-interrupt', 'Ctrl-C also cancels the run (default on a terminal)')
      .option('--no-cancel-on-interrupt', 'Ctrl-C stops following and leaves the run going')
      .addHelpText(
        'after',
        examples(
          'sympozium run demo "list the pods that restarted today"',
          'sympozium run demo -f task.md -o json | jq .status.result',
          'sympozium run demo "nightly report" --no-wait',
        ),
      )
      .action((instance: string, task: string | undefined, options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          const { runTask } = await import('./commands/run.js');
          await runTask(
            {
              instance,
              task,
              file: options.filename as string | undefined,
              wait: options.wait as boolean,
              timeoutMs: options.timeout as number,
              cancelOnInterrupt: command.getOptionValueSource('cancelOnInterrupt') === 'cli' ? Boolean(options.cancelOnInterrupt) : undefined,
              logs: Boolean(options.logs),
            },
            ctx,
          );
        }),
      );
  }

  if (wanted('runs')) {
    const runs = program
      .command('runs')
      .description('AgentRuns: list, inspect and follow them live')
      .addHelpText('after', examples('sympozium runs list --instance demo', 'sympozium runs get demo-web-x7k2p', 'sympozium runs tail demo'));
    runs
      .command('list')
      .alias('ls')
      .description('AgentRuns, newest first')
      .option('--instance <name>', 'only runs of this instance', instanceName)
      .option('--source <source>', 'only runs from this source (web-proxy, channel, ...)')
      .option('--phase <phase>', 'only runs in this phase (Pending, Running, Serving, Succeeded, Failed)', runPhase)
      .option('-A, --all-namespaces', 'every namespace')
      .option('--limit <n>', 'at most this many', positiveInteger('--limit'))
      .addHelpText('after', examples('sympozium runs list', 'sympozium runs list --instance demo --phase Failed', 'sympozium runs list -o json'))
      .action((options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          const { listRuns } = await import('./commands/runs.js');
          await listRuns(
            {
              instance: options.instance as string | undefined,
              source: options.source as string | undefined,
              phase: options.phase as string | undefined,
              allNamespaces: Boolean(options.allNamespaces),
              limit: options.limit as number | undefined,
            },
            ctx,
          );
        }),
      );
    runs
      .command('get')
      .argument('<run>', 'the AgentRun', runName)
      .description('one run: task, result, error, token usage, duration, pod')
      .addHelpText('after', examples('sympozium runs get demo-web-x7k2p', 'sympozium runs get demo-web-x7k2p -o json'))
      .action((name: string, _options: unknown, command: Command) =>
        run(command, async (ctx) => {
          const { getRun } = await import('./commands/runs.js');
          await getRun({ name }, ctx);
        }),
      );
    runs
      .command('logs')
      .argument('<run>', 'the AgentRun', runName)
      .description("the logs of the run's pod (the agent container unless -c or --all-containers); -f follows them")
      .option('-f, --follow', 'keep streaming (for a server run, onto the pod that replaces one that went)')
      .option('--tail <n>', 'only the last n lines', nonNegativeInteger('--tail'))
      .option('--since <duration>', 'only lines newer than this, e.g. 5m', duration('--since'))
      .option('-c, --container <name>', 'this container of the pod')
      .option('--all-containers', "every container, each line prefixed with the container's name")
      .option('--timestamps', 'prefix each line with its time (RFC 3339)')
      .addHelpText('after', examples('sympozium runs logs demo-run-1764691200', 'sympozium runs logs demo-web-endpoint -f --tail 20', 'sympozium runs logs demo-run-1764691200 --all-containers'))
      .action((name: string, options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          if (options.container !== undefined && options.allContainers) throw usageError('-c and --all-containers both choose the containers: pass one');
          const { runLogs } = await import('./commands/runs.js');
          await runLogs(
            {
              name,
              follow: Boolean(options.follow),
              tail: options.tail as number | undefined,
              sinceMs: options.since as number | undefined,
              container: options.container as string | undefined,
              allContainers: Boolean(options.allContainers),
              timestamps: Boolean(options.timestamps),
            },
            ctx,
          );
        }),
      );
    for (const verb of ['cancel', 'delete'] as const) {
      runs
        .command(verb)
        .argument('[runs...]', 'the AgentRuns', (value: string, previous: string[] = []) => [...previous, runName(value)])
        .description(
          verb === 'cancel'
            ? "stop runs still going, as upstream's abort does: the run is deleted and its Job and pod with it"
            : 'delete runs whatever their phase; their Jobs and pods go with them',
        )
        .option('--instance <name>', 'every run of this instance (asks first, or --yes)', instanceName)
        .option('--phase <phase>', 'with --instance, or alone: only runs in this phase', runPhase)
        .addHelpText(
          'after',
          examples(`sympozium runs ${verb} demo-web-x7k2p`, `sympozium runs ${verb} --instance demo${verb === 'delete' ? ' --phase Failed' : ''} --yes`),
        )
        .action((names: string[], options: Record<string, unknown>, command: Command) =>
          run(command, async (ctx) => {
            const module = await import('./commands/runs.js');
            const remove = verb === 'cancel' ? module.cancelRuns : module.deleteRuns;
            await remove({ names, instance: options.instance as string | undefined, phase: options.phase as string | undefined }, ctx);
          }),
        );
    }
    runs
      .command('tail')
      .argument('[instance]', 'only runs of this instance', instanceName)
      .description('follow AgentRun status changes live, one line per transition')
      .option('--run <name>', 'follow only this run', runName)
      .option('--since <duration>', 'also show runs that changed within this long ago', duration('--since'))
      .option('--until-done', 'with --run: exit when the run ends (0 Succeeded, 1 Failed)')
      .option('--wait-for-create', 'with --run: wait for a run that does not exist yet (else it is an error)')
      .option('--timeout <duration>', 'with --until-done: give up after this long (exit 1)', duration('--timeout'))
      .option('--source <source>', 'only runs from this source')
      .addHelpText(
        'after',
        examples('sympozium runs tail demo', 'sympozium runs tail --run demo-web-x7k2p --until-done', 'sympozium runs tail -o json | jq .phase'),
      )
      .action((instance: string | undefined, options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          const { tailRuns } = await import('./commands/runs.js');
          await tailRuns(
            {
              instance,
              run: options.run as string | undefined,
              sinceMs: options.since as number | undefined,
              untilDone: Boolean(options.untilDone),
              source: options.source as string | undefined,
              waitForCreate: Boolean(options.waitForCreate),
              timeoutMs: options.timeout as number | undefined,
            },
            ctx,
          );
        }),
      );
  }

  if (wanted('chat')) {
    keyOptions(program.command('chat'))
      .argument('<instance>', 'the instance', instanceName)
      .argument('[message]', 'the message')
      .description("talk to an instance through its OpenAI-compatible web endpoint")
      .option('-m, --message <text>', 'the message (else the argument, else stdin when piped, else an interactive session)')
      .option('-s, --system <text>', 'a system message')
      .option('--stream', 'print tokens as they arrive (default on a terminal)')
      .option('--no-stream', 'wait for the whole answer')
      .option('--url <base URL>', 'the endpoint, e.g. https://demo.example.com (skips the cluster lookup)')
      .addOption(new Option('--history <mode>', 'how earlier turns reach the agent').choices(['fold', 'send', 'none']).default('fold'))
      .addOption(timeoutOption('how long one answer may take', '15m'))
      .option('--json', 'print the full response and the run status as one JSON document')
      .option('--cancel-on-interrupt', "Ctrl-C also cancels the run the question started (default on a terminal)")
      .option('--no-cancel-on-interrupt', 'Ctrl-C stops waiting and leaves the run going')
      .addHelpText(
        'after',
        examples(
          'sympozium chat demo "what pods are failing?"',
          'echo "summarise this" | sympozium chat demo',
          'sympozium chat demo                        # interactive: /system, /reset, /exit',
          'sympozium chat demo -m hi --url https://demo.example.com --key-file ~/.sympozium-key',
        ),
      )
      .action((instance: string, message: string | undefined, options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          const { chat } = await import('./commands/chat.js');
          await chat(
            {
              instance,
              message: (options.message as string | undefined) ?? message,
              system: options.system as string | undefined,
              stream: options.stream as boolean | undefined,
              streamExplicit: command.getOptionValueSource('stream') === 'cli',
              url: options.url as string | undefined,
              key: options.key as string | undefined,
              keyFile: options.keyFile as string | undefined,
              allowHttp: Boolean(options.allowHttp),
              history: options.history as 'fold' | 'send' | 'none',
              timeoutMs: options.timeout as number,
              json: Boolean(options.json),
              cancelOnInterrupt: command.getOptionValueSource('cancelOnInterrupt') === 'cli' ? Boolean(options.cancelOnInterrupt) : undefined,
            },
            ctx,
          );
        }),
      );
  }

  if (wanted('models')) {
    keyOptions(program.command('models'))
      .argument('<instance>', 'the instance', instanceName)
      .description('list the models the web endpoint offers (GET /v1/models)')
      .option('--url <base URL>', 'the endpoint (skips the cluster lookup)')
      .addHelpText('after', examples('sympozium models demo', 'sympozium models demo -o json'))
      .action((instance: string, options: { url?: string; key?: string; keyFile?: string; allowHttp?: boolean }, command: Command) =>
        run(command, async (ctx) => {
          const { models } = await import('./commands/models.js');
          await models({ instance, url: options.url, key: options.key, keyFile: options.keyFile, allowHttp: Boolean(options.allowHttp) }, ctx);
        }),
      );
  }

  if (wanted('env')) {
    keyOptions(program.command('env'))
      .argument('<instance>', 'the instance', instanceName)
      .description('print OPENAI_BASE_URL, OPENAI_API_KEY and the model for other clients, or with --mcp an mcpServers entry')
      .option('--reveal', 'print the real key (the default shell lines mask it)')
      .addOption(new Option('--format <format>', 'shell (default), or a format for programs, which carries the real key').choices(envFormatChoices))
      .option('--mcp', 'print an mcpServers JSON entry (url and Authorization header) for MCP clients instead')
      .option('--url <base URL>', 'the endpoint (skips the cluster lookup)')
      .option('--port <port>', 'without a public URL: the port `sympozium proxy` would listen on (default 8080)', listenPort)
      .addHelpText(
        'after',
        examples(
          'sympozium env demo                                  # masked, to read',
          'eval "$(sympozium env demo --reveal)"               # then any OpenAI SDK or tool works',
          'sympozium env demo --format dotenv > .env',
          'sympozium env demo --format fish | source',
          'sympozium env demo --format powershell | Invoke-Expression',
          'sympozium env demo --mcp --reveal > .mcp.json',
        ),
      )
      .action((instance: string, options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          const { env } = await import('./commands/env.js');
          await env(
            {
              instance,
              reveal: Boolean(options.reveal),
              format: options.format as import('./ui/env-vars.js').EnvFormat | undefined,
              mcp: Boolean(options.mcp),
              port: options.port as number | undefined,
              url: options.url as string | undefined,
              key: options.key as string | undefined,
              keyFile: options.keyFile as string | undefined,
              allowHttp: Boolean(options.allowHttp),
            },
            ctx,
          );
        }),
      );
  }

  if (wanted('proxy')) {
    keyOptions(program.command('proxy'))
      .argument('<instance>', 'the instance', instanceName)
      .description('a local OpenAI-compatible and MCP endpoint for the instance, which adds its key itself')
      .addOption(new Option('--port <port>', 'port to listen on (0: any free one)').argParser(listenPort).default(8080))
      .option('--address <ip>', 'address to listen on; anything but loopback lets others use the key', '127.0.0.1')
      .option('--local-key [key]', 'require this key from local clients (alone: generate one and print it)')
      .addOption(new Option('--format <format>', 'how to print the lines that point clients here').choices(envFormatChoices))
      .option('--mcp', 'print an mcpServers JSON entry for this proxy instead of the variables')
      .option('--url <base URL>', 'the endpoint (skips the cluster lookup)')
      .addHelpText(
        'after',
        examples(
          'sympozium proxy demo                                # http://127.0.0.1:8080/v1 and /sse',
          'sympozium proxy demo --port 9000 > proxy.env &      # then: source proxy.env',
          'sympozium proxy demo --local-key                    # clients must send the printed key',
          'sympozium proxy demo --address 0.0.0.0 --local-key  # reachable from other machines',
          'OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=sympozium-proxy python app.py',
        ),
      )
      .action((instance: string, options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          const { proxy } = await import('./commands/proxy.js');
          await proxy(
            {
              instance,
              port: options.port as number,
              address: options.address as string,
              localKey: options.localKey as string | true | undefined,
              format: options.format as import('./ui/env-vars.js').EnvFormat | undefined,
              mcp: Boolean(options.mcp),
              url: options.url as string | undefined,
              key: options.key as string | undefined,
              keyFile: options.keyFile as string | undefined,
              allowHttp: Boolean(options.allowHttp),
            },
            ctx,
          );
        }),
      );
  }

  if (wanted('mcp')) {
    keyOptions(program.command('mcp'))
      .argument('<instance>', 'the instance', instanceName)
      .argument('<action>', 'tools, call or serve')
      .argument('[tool]', 'the tool to call')
      .description('the MCP endpoint: `tools` lists the tools, `call <tool>` calls one, `serve --stdio` serves it over stdio')
      .option('--arg <k=v>', 'an argument for call (repeatable)', collect)
      .option('--stdio', 'with serve: speak MCP on stdin/stdout (what Claude Code, Claude Desktop and Cursor launch)')
      .option('--url <base URL>', 'the endpoint (skips the cluster lookup)')
      .addOption(timeoutOption('how long a call may take', '15m'))
      .addHelpText(
        'after',
        examples(
          'sympozium mcp demo tools',
          'sympozium mcp demo call ask_agent --arg task="list the pods"',
          'claude mcp add sympozium -- sympozium mcp demo serve --stdio',
          '{"mcpServers": {"sympozium": {"command": "sympozium", "args": ["mcp", "demo", "serve", "--stdio"]}}}',
        ),
      )
      .action((instance: string, action: string, tool: string | undefined, options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          if (action !== 'tools' && action !== 'call' && action !== 'serve') {
            throw usageError(`unknown mcp action "${action}"`, 'Use `sympozium mcp <instance> tools`, `sympozium mcp <instance> call <tool>` or `sympozium mcp <instance> serve --stdio`.');
          }
          if (action === 'serve') {
            if (!options.stdio) throw usageError('mcp serve needs --stdio, the transport it serves', `Run \`sympozium mcp ${instance} serve --stdio\`; for MCP over HTTP, \`sympozium proxy ${instance}\` serves /sse.`);
            const { serveMcp } = await import('./commands/mcp-serve.js');
            await serveMcp(
              {
                instance,
                url: options.url as string | undefined,
                key: options.key as string | undefined,
                keyFile: options.keyFile as string | undefined,
                allowHttp: Boolean(options.allowHttp),
              },
              ctx,
            );
            return;
          }
          if (action === 'call' && !tool) throw usageError('mcp call needs a tool name', 'List them with `sympozium mcp <instance> tools`.');
          const { mcp } = await import('./commands/mcp.js');
          await mcp(
            {
              instance,
              action,
              tool,
              args: (options.arg as string[] | undefined) ?? [],
              url: options.url as string | undefined,
              key: options.key as string | undefined,
              keyFile: options.keyFile as string | undefined,
              allowHttp: Boolean(options.allowHttp),
              timeoutMs: options.timeout as number,
            },
            ctx,
          );
        }),
      );
  }

  if (wanted('doctor')) {
    program
      .command('doctor')
      .argument('[instance]', 'also check this instance: reconciled, its policy, provider Secrets and SkillPacks, its web endpoint', instanceName)
      .description("check the cluster (reachable, Sympozium CRDs and kind, controller, web-endpoint SkillPack, RBAC) and the namespace's instances")
      .addHelpText('after', examples('sympozium doctor', 'sympozium doctor demo', 'sympozium doctor --context prod -o json'))
      .action((instance: string | undefined, _options: unknown, command: Command) =>
        run(command, async (ctx) => {
          const { doctor } = await import('./commands/doctor.js');
          await doctor({ instance }, ctx);
        }),
      );
  }

  if (wanted('dev')) {
    const dev = program
      .command('dev')
      .description('the local control plane: a Kubernetes-compatible API with the Sympozium controller, no cluster needed')
      .addHelpText('after', examples('sympozium dev up', 'eval "$(sympozium dev env)"', 'sympozium dev status', 'sympozium dev down'));
    dev
      .command('up')
      .description('start it in the background and write its kubeconfig')
      .option('--foreground', 'run in this terminal until Ctrl-C')
      .option('--port <port>', 'API server port (default: a free one)', positiveInteger('--port'))
      .option('--persist', 'keep objects across restarts')
      .option('--merge-kubeconfig', 'also add a sympozium-dev context to your kubeconfig')
      // Listed here rather than imported, as for validate: the release data loads only when dev starts.
      .addOption(new Option('--release <release>', "the upstream Sympozium release to run: its CRDs, built-ins and controller (default: v0.5.8, or what a --persist state holds)").choices(['v0.5.8', 'v0.10.46']))
      .option('--state-dir <dir>', 'where state, logs and the kubeconfig live (default: per-user directory)')
      .addHelpText('after', examples('sympozium dev up', 'sympozium dev up --release v0.10.46', 'sympozium dev up --persist --merge-kubeconfig', 'sympozium dev up --foreground'))
      .action((options: Record<string, unknown>, command: Command) =>
        run(command, async (ctx) => {
          const { devUp } = await import('./commands/dev.js');
          await devUp(
            {
              foreground: Boolean(options.foreground),
              port: options.port as number | undefined,
              persist: Boolean(options.persist),
              mergeKubeconfig: Boolean(options.mergeKubeconfig),
              stateDir: options.stateDir as string | undefined,
              release: options.release as string | undefined,
            },
            ctx,
          );
        }),
      );
    for (const [verb, description] of [
      ['down', 'stop it and remove its kubeconfig context'],
      ['status', 'address, uptime, objects, log file'],
      ['env', 'print the export line for its kubeconfig'],
      ['logs', 'print the controller and proxy log'],
    ] as const) {
      dev
        .command(verb)
        .description(description)
        .option('--state-dir <dir>', 'where state, logs and the kubeconfig live (default: per-user directory)')
        .action((options: { stateDir?: string }, command: Command) =>
          run(command, async (ctx) => {
            const module = await import('./commands/dev.js');
            const action = { down: module.devDown, status: module.devStatus, env: module.devEnv, logs: module.devLogs }[verb];
            await action({ stateDir: options.stateDir }, ctx);
          }),
        );
    }
  }

  if (wanted('completion')) {
    program
      .command('completion <shell>')
      .description('print a shell completion script (bash, zsh or fish)')
      .addHelpText(
        'after',
        examples(
          'source <(sympozium completion bash)',
          'sympozium completion zsh > "${fpath[1]}/_sympozium"',
          'sympozium completion fish > ~/.config/fish/completions/sympozium.fish',
        ),
      )
      .action((shell: string, _options: unknown, command: Command) =>
        run(command, async (ctx) => {
          const { completion } = await import('./commands/completion.js');
          await completion({ shell, program }, ctx);
        }),
      );
  }

  if (wanted('version')) {
    program
      .command('version')
      .description('this client, the API server and the Sympozium release and kinds the cluster serves')
      .option('--client', 'only this client; no cluster needed')
      .addHelpText('after', examples('sympozium version', 'sympozium version -o json', 'sympozium version --client'))
      .action((options: { client?: boolean }, command: Command) =>
        run(command, async (ctx) => {
          const { version: printVersion } = await import('./commands/version.js');
          await printVersion({ client: version, clientOnly: Boolean(options.client) }, ctx);
        }),
      );
  }

  return program;
}
