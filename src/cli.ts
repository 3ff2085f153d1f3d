import type { GlobalOptions } from './context.js';
import { usageError } from './errors.js';
import type { OutputFormat } from './ui/output.js';
import { registerDev, registerCompletion, registerDoctor, registerVersion } from './cli/cluster.js';
import { registerChat, registerEnv, registerMcp, registerModels, registerProxy } from './cli/clients.js';
import { registerDisable, registerEnable, registerKey } from './cli/endpoint.js';
import { registerInit } from './cli/init.js';
import { registerInstances } from './cli/instances.js';
import { registerApply, registerMigrate, registerValidate } from './cli/manifests.js';
import { registerRun, registerRuns } from './cli/runs.js';
import { commandModules, createRoot, type CommandModules, type CommandNode, type GlobalFlags, type InvokedCommand, type Program, type Registration, type RunCommand } from './cli/surface.js';

/**
 * The command surface, composed: each top-level command is one register<Verb>() in src/cli/ (grouped by what
 * the commands act on, so no file passes 400 lines), and this file lists them in help order, derives the
 * known names from that list, and holds the rules every command shares (globals, output formats).
 */

/** Every top-level command, in the order help lists them. */
const registrations: Registration[] = [
  registerInit,
  registerValidate,
  registerApply,
  registerMigrate,
  registerInstances,
  registerEnable,
  registerDisable,
  registerKey,
  registerRun,
  registerRuns,
  registerChat,
  registerModels,
  registerEnv,
  registerProxy,
  registerMcp,
  registerDoctor,
  registerDev,
  registerCompletion,
  registerVersion,
];

export const knownCommands = registrations.map((registration) => registration.name);

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
export function readGlobals(command: Pick<InvokedCommand, 'optsWithGlobals' | 'getOptionValueSourceWithGlobals'>): GlobalOptions {
  const flags: GlobalFlags = command.optsWithGlobals();
  return {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    namespace: flags.namespace,
    output: flags.output?.format ?? 'table',
    outputTemplate: flags.output?.template,
    outputTemplateFile: flags.output?.templateFile,
    outputExplicit: command.getOptionValueSourceWithGlobals('output') === 'cli',
    yes: Boolean(flags.yes),
    quiet: Boolean(flags.quiet),
    verbose: Boolean(flags.verbose),
    color: flags.color,
    requestTimeoutMs: flags.requestTimeout,
    as: flags.as,
    asGroups: flags.asGroup,
    asUid: flags.asUid,
  };
}

/**
 * What each command can print, one entry per command: every other -o is refused with exit 2 (checkOutput
 * below, called for every command before it runs) rather than silently answered in another format. The
 * templates (jsonpath, custom-columns) and --no-headers are where kubectl has them: commands that print objects.
 */
const objects: OutputFormat[] = ['table', 'wide', 'json', 'yaml', 'name', 'jsonpath', 'custom-columns'];
const documents: OutputFormat[] = ['table', 'json', 'yaml'];
export const outputFormatsOf: Record<string, OutputFormat[]> = {
  init: ['table'],
  validate: documents,
  apply: ['table', 'json', 'yaml', 'name'],
  migrate: documents,
  'instances list': objects,
  'instances get': objects,
  'instances describe': documents,
  'instances delete': ['table', 'name'],
  'enable web-endpoint': documents,
  'disable web-endpoint': documents,
  'key show': documents,
  'key rotate': documents,
  run: ['table', 'json', 'yaml', 'name'],
  'runs list': objects,
  // A run is shown as fields, not a table: there is no wide form of it.
  'runs get': objects.filter((format) => format !== 'wide'),
  'runs logs': ['table'],
  'runs cancel': documents,
  'runs delete': documents,
  'runs tail': ['table', 'json'],
  chat: documents,
  models: ['table', 'json', 'yaml', 'name'],
  env: ['table', 'json'],
  proxy: ['table', 'json'],
  // Per action (src/cli/clients.ts): tools all four, call no name, serve none (stdout speaks MCP).
  mcp: ['table', 'json', 'yaml', 'name'],
  doctor: documents,
  'dev up': documents,
  'dev down': documents,
  'dev status': documents,
  'dev env': ['table'],
  'dev logs': ['table'],
  completion: ['table'],
  version: documents,
};

/** `instances delete` for the command object of that subcommand. */
export function commandPath(command: CommandNode): string {
  const names: string[] = [];
  for (let current: CommandNode | null = command; current?.parent; current = current.parent) names.unshift(current.name());
  return names.join(' ');
}

/** The one output rule: a command asked for a format it cannot print refuses, exit 2, before it does anything. */
function checkOutput(path: string, globals: GlobalOptions): void {
  const formats = outputFormatsOf[path];
  // A command missing from the table is a bug in the surface (a test checks every command has an entry).
  if (!formats) throw new Error(`no output formats declared for \`${path}\``);
  if (!globals.outputExplicit || formats.includes(globals.output)) return;
  const names = formats.map((format) => (format === 'table' ? 'text (no -o)' : format === 'jsonpath' || format === 'custom-columns' ? `-o ${format}=...` : `-o ${format}`));
  throw usageError(`-o ${globals.output} is not supported by \`sympozium ${path}\``, `It prints ${names.join(', ')}.`);
}

/**
 * The globals of the command about to run, with the output rule applied: a format it cannot print is refused
 * (exit 2), and the template of -o jsonpath= or custom-columns= is read from its file for the -file= forms
 * and parsed, so a broken one is a usage error before any request. main.ts and the argv tests both use this.
 */
export async function globalsFor(command: InvokedCommand): Promise<GlobalOptions> {
  const globals = readGlobals(command);
  checkOutput(commandPath(command), globals);
  let template = globals.outputTemplate;
  if (globals.outputTemplateFile !== undefined) {
    const { readFile } = await import('node:fs/promises');
    try {
      template = await readFile(globals.outputTemplateFile, 'utf8');
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
      throw usageError(`cannot read the template file ${globals.outputTemplateFile}: ${code}`, `-o ${globals.output}-file= takes the path of a file holding the template.`);
    }
  }
  if (template === undefined) return globals;
  const { checkTemplate } = await import('./ui/objects.js');
  checkTemplate(globals.output, template);
  return { ...globals, outputTemplate: template };
}

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
    return registrations.find((registration) => registration.aliases?.includes(arg))?.name ?? arg;
  }
  return undefined;
}

/**
 * Builds the command surface. With `only`, just that top-level command is registered: building all of them is
 * a measurable part of start-up, and a command line names one. Help, version and unknown commands (which
 * need the full list for "did you mean") build everything. `modules` is for tests, which record what each
 * command function receives instead of running it.
 */
export function buildProgram(version: string, run: RunCommand, only?: string, modules: CommandModules = commandModules): Program {
  const program = createRoot(version);
  for (const registration of registrations) {
    if (only === undefined || only === registration.name) registration.register({ program, run, modules, version });
  }
  return program;
}
