import { CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import { buildProgram, commandNameOf, globalsFor, knownCommands, overview, readGlobals } from './cli.js';
import type { Context, GlobalOptions } from './context.js';
import { CliError, ExitCode, InterruptedError } from './errors.js';
import { Output, loadOutputColors } from './ui/output.js';
import type { ChalkClass } from './ui/colors.js';
import { createInquirerPrompter } from './ui/prompts.js';

/**
 * The one place that turns a thrown error into a message and an exit code. Commands throw; only this exits.
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  const code = await runCli(argv.slice(2), invokedName(argv[1]));
  process.exitCode = code;
  // Open handles (a port-forward socket, a keep-alive agent) must not keep a finished command alive, but
  // process.exit() drops whatever the streams still queue: a pipe whose reader is slow holds only 64 KiB, and
  // validate's 160 KB report reached `| (sleep 1; wc -c)` as 65 KB (test/e2e/output-flush.test.ts).
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

/**
 * Resolves once everything written to `stream` so far has reached the OS. Writes complete in order, so an empty
 * write's callback comes after the last real one; an error (the reader went away) counts as done too.
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/**
 * `kubectl sympozium` when kubectl runs us as its plugin (it executes `kubectl-sympozium` from PATH), so
 * help and usage lines show the command the user typed.
 */
function invokedName(script: string | undefined): string {
  const base = (script ?? '').split(/[\\/]/).pop() ?? '';
  return base.startsWith('kubectl-sympozium') ? 'kubectl sympozium' : 'sympozium';
}

export async function runCli(args: string[], name = 'sympozium'): Promise<number> {
  // `sympozium ... | head` closes the pipe early: that is the reader's choice, not a failure to report.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.ok);
    throw error;
  });
  const abort = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    // A second Ctrl-C leaves at once, whatever is still cleaning up.
    if (interrupted) process.exit(ExitCode.interrupted);
    interrupted = true;
    abort.abort(new InterruptedError());
  };
  process.on('SIGINT', onSigint);

  let failure: unknown;
  let globals: GlobalOptions | undefined;
  // Register only the command the line names; help, version and typos need the whole surface.
  const named = commandNameOf(args);
  const known = named !== undefined && knownCommands.includes(named);
  // `--version` alone needs no command at all.
  const versionOnly = named === undefined && args.includes('--version') && !args.includes('--help') && !args.includes('-h');
  const program = buildProgram(packageVersion(), async (command, work) => {
    globals = await globalsFor(command);
    const yaml = globals.output === 'yaml' ? await loadYaml() : undefined;
    const Chalk = await loadOutputColors({ stdout: process.stdout, stderr: process.stderr, color: globals.color ? undefined : false });
    await work(createContext(globals, abort.signal, yaml && ((value) => yaml.stringify(value, { lineWidth: 0 })), Chalk));
  }, known ? named : versionOnly ? '' : undefined);
  if (name !== 'sympozium') program.name(name);

  try {
    // `sympozium` alone: a short overview rather than the full reference.
    if (args.length === 0) process.stdout.write(overview);
    // The completion scripts' protocol: the words typed so far, answered with candidates. Handled before
    // commander, because the words are a half-typed command line, not options for this invocation.
    else if (args[0] === '__complete') {
      globals = readGlobals(program);
      const { completeWords } = await import('./commands/completion.js');
      await completeWords(program, args.slice(1), createContext({ ...globals, quiet: true }, abort.signal));
    } else await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    failure = error;
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (failure === undefined) return interrupted ? ExitCode.interrupted : ExitCode.ok;
  return report(failure, globals, interrupted);
}

/** The exit code an error means, as CLI.md promises them: 0 help/version, 2 usage, 130 interrupted, else 1 or the CliError's. */
export function exitCodeOf(error: unknown, interrupted = false): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (and the suggestion); help and version are successes.
    const success = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0;
    return success ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof InterruptedError || interrupted || (error instanceof Error && error.name === 'AbortError')) return ExitCode.interrupted;
  if (error instanceof CliError) return error.exitCode;
  return ExitCode.failed;
}

async function report(error: unknown, globals: GlobalOptions | undefined, interrupted: boolean): Promise<number> {
  const code = exitCodeOf(error, interrupted);
  if (error instanceof CommanderError || code === ExitCode.interrupted) return code;
  const streams = { stdout: process.stdout, stderr: process.stderr, color: globals?.color };
  const out = new Output({ ...streams, verbose: globals?.verbose, Chalk: await loadOutputColors(streams) });
  if (error instanceof CliError) {
    out.error(error.message, error.hint);
    if (globals?.verbose && error.cause instanceof Error) out.debug(`caused by: ${error.cause.stack ?? error.cause.message}`);
    return code;
  }
  // Anything else is a bug in sympozium, not a mistake of the user.
  const message = error instanceof Error ? error.message : String(error);
  out.error(`unexpected failure: ${message}`, 'This is a bug in sympozium. Run again with --verbose and report what it prints.');
  if (globals?.verbose && error instanceof Error && error.stack) out.debug(error.stack);
  return code;
}

export function createContext(globals: GlobalOptions, signal: AbortSignal, yamlStringify?: (value: unknown) => string, Chalk?: ChalkClass): Context {
  const out = new Output({
    yamlStringify,
    Chalk,
    stdout: process.stdout,
    stderr: process.stderr,
    format: globals.output,
    template: globals.outputTemplate,
    quiet: globals.quiet,
    verbose: globals.verbose,
    color: globals.color ? undefined : false,
  });
  let kube: Promise<import('./kube/client.js').KubeClient> | undefined;
  const ctx: Context = {
    out,
    prompt: createInquirerPrompter(),
    globals,
    env: process.env,
    cwd: process.cwd(),
    // process.stdin is made on first use (a stream and node:stream's internals, ~1 ms): most commands never read it.
    get stdin() {
      return process.stdin;
    },
    interactive: isatty(0) && Boolean(process.stdout.isTTY) && !process.env.CI,
    now: () => new Date(),
    signal,
    kube: () => {
      kube ??= import('./kube/client.js').then((m) => m.createKubeClient({ globals, env: process.env, out, signal }));
      return kube;
    },
  };
  return ctx;
}

/** The yaml package: bundled as CommonJS it arrives as the default export, from source as named exports. */
async function loadYaml(): Promise<typeof import('yaml')> {
  const module = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
  return module.default ?? module;
}

/** Set by the build (scripts/build.mjs) so that start-up reads no file for it. */
declare const __SYMPOZIUM_VERSION__: string | undefined;

function packageVersion(): string {
  if (typeof __SYMPOZIUM_VERSION__ === 'string') return __SYMPOZIUM_VERSION__;
  // Running from source (tests): src/main.ts sits one level below package.json.
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}
