import { Command, Option } from '@commander-js/extra-typings';
import type { Context } from '../context.js';
import { outputFlagHelp, parseOutputFlag } from '../ui/output-flag.js';
import { collect, duration, namespaceName } from './flags.js';

/**
 * What every register<Verb>() function is handed: the root program (its global flags typed), the dispatcher
 * that turns a parsed command into a Context and runs the work, and the lazily loaded command modules.
 */

/** The root program with the global flags; subcommands inherit their types through `program.command()`. */
export function createRoot(version: string) {
  return new Command('sympozium')
    .description('The CLI for Sympozium instances: AI agents that run as pods on Kubernetes.')
    .version(version, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <ns>', "namespace (default: the context's, else \"default\")", namespaceName)
    .option('--as <user>', 'user to impersonate for the cluster requests')
    .option('--as-group <group>', 'group to impersonate (repeatable)', collect)
    .option('--as-uid <uid>', 'UID to impersonate')
    .addOption(new Option('-o, --output <format>', outputFlagHelp).argParser(parseOutputFlag))
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
}

export type Program = ReturnType<typeof createRoot>;
/** The global flags as commander parsed them, before readGlobals() turns them into GlobalOptions. */
export type GlobalFlags = ReturnType<Program['opts']>;

/** The slice of a parsed command the dispatcher reads: its globals, its place in the tree, its -o source. */
export interface InvokedCommand {
  optsWithGlobals(): GlobalFlags;
  getOptionValueSourceWithGlobals(key: 'output'): string | undefined;
  name(): string;
  readonly parent: CommandNode | null;
}

/** A command's place in the tree, enough to name it (`instances delete`). */
export interface CommandNode {
  name(): string;
  readonly parent: CommandNode | null;
}

export type RunCommand = (command: InvokedCommand, work: (ctx: Context) => Promise<void>) => Promise<void>;

/**
 * The command modules, each imported only when its command runs, so `--help` and `--version` load none of
 * them. Tests hand in fakes that record what each command function receives.
 */
export const commandModules = {
  init: () => import('../commands/init.js'),
  validate: () => import('../commands/validate.js'),
  apply: () => import('../commands/apply.js'),
  migrate: () => import('../commands/migrate.js'),
  instances: () => import('../commands/instances.js'),
  enable: () => import('../commands/enable.js'),
  key: () => import('../commands/key.js'),
  run: () => import('../commands/run.js'),
  runs: () => import('../commands/runs.js'),
  runsList: () => import('../commands/runs-list.js'),
  runsTail: () => import('../commands/runs-tail.js'),
  runsLogs: () => import('../commands/runs-logs.js'),
  runsRemove: () => import('../commands/runs-remove.js'),
  chat: () => import('../commands/chat.js'),
  models: () => import('../commands/models.js'),
  env: () => import('../commands/env.js'),
  proxy: () => import('../commands/proxy.js'),
  mcp: () => import('../commands/mcp.js'),
  mcpServe: () => import('../commands/mcp-serve.js'),
  doctor: () => import('../commands/doctor.js'),
  dev: () => import('../commands/dev.js'),
  completion: () => import('../commands/completion.js'),
  version: () => import('../commands/version.js'),
};
export type CommandModules = typeof commandModules;

interface Surface {
  program: Program;
  run: RunCommand;
  modules: CommandModules;
  version: string;
}

/** One top-level command: its name and aliases (read before it is built) and the function that builds it. */
export interface Registration {
  name: string;
  aliases?: string[];
  register(surface: Surface): void;
}
