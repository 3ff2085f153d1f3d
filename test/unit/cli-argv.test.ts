import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { buildProgram, commandNameOf, commandPath, globalsFor, knownCommands, outputFormatsOf } from '../../src/cli.js';
import type { CommandModules, RunCommand } from '../../src/cli/surface.js';
import type { Context, GlobalOptions } from '../../src/context.js';
import { exitCodeOf } from '../../src/main.js';
import { Output, outputFormats, type OutputFormat } from '../../src/ui/output.js';

/**
 * argv -> options through the real command surface: each command line is parsed by the program main.ts
 * builds (only the named command registered, as at start-up), and the command modules are fakes that record
 * which function was called with what. The dispatcher applies the same globals and output rule as main.ts.
 */

interface Call {
  module: string;
  fn: string;
  options: unknown;
  globals: GlobalOptions;
}

/** Command modules whose every export records its call instead of doing the work. */
function recordingModules(calls: Call[], globals: () => GlobalOptions): CommandModules {
  const module = (name: string) =>
    new Proxy(
      {},
      {
        // `then` must stay undefined, or awaiting the module would treat it as a promise.
        get: (_target, fn) => (fn === 'then' ? undefined : async (options: unknown) => void calls.push({ module: name, fn: String(fn), options, globals: globals() })),
      },
    );
  return new Proxy({} as CommandModules, { get: (_target, name) => async () => module(String(name)) });
}

function fakeContext(globals: GlobalOptions): Context {
  const sink = { write: () => true };
  return {
    out: new Output({ stdout: sink, stderr: sink, format: globals.output, template: globals.outputTemplate, color: false }),
    prompt: undefined as never,
    globals,
    env: {},
    cwd: '/',
    stdin: Readable.from([]),
    interactive: false,
    now: () => new Date(0),
    signal: new AbortController().signal,
    kube: async () => {
      throw new Error('no cluster in argv tests');
    },
  };
}

/** Every command of a program, depth first. */
function allCommands(command: CommandUnknownOpts): CommandUnknownOpts[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

async function parse(argv: string[], full = false) {
  const calls: Call[] = [];
  let globals: GlobalOptions | undefined;
  const run: RunCommand = async (command, work) => {
    globals = await globalsFor(command);
    await work(fakeContext(globals));
  };
  const program = buildProgram('0.0.0-test', run, full ? undefined : commandNameOf(argv), recordingModules(calls, () => globals!));
  for (const command of allCommands(program)) command.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  let code = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    code = exitCodeOf(error);
  }
  return { code, calls, program };
}

async function called(argv: string[]) {
  const result = await parse(argv);
  expect(result.code, argv.join(' ')).toBe(0);
  expect(result.calls, argv.join(' ')).toHaveLength(1);
  return result.calls[0]!;
}

const m = 60_000;

const defined = (value: unknown) => Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, entry]) => entry !== undefined));

/** [argv, module, function, options]: representative command lines for every command. */
const table: [string, string, string, Record<string, unknown>][] = [
  ['init', 'init', 'init', { name: undefined }],
  ['init demo --provider openai --model gpt-4.1 --skill a --skill b:x=1 --rpm 5 --no-memory --kind Agent', 'init', 'init', { name: 'demo', provider: 'openai', model: 'gpt-4.1', skill: ['a', 'b:x=1'], rpm: 5, memory: false, kind: 'Agent' }],
  ['init demo --memory --web-endpoint --burst 3 --out - --force --apply --api-key-env K', 'init', 'init', { name: 'demo', memory: true, webEndpoint: true, burst: 3, out: '-', force: true, apply: true, apiKeyEnv: 'K' }],
  ['validate -f a.yaml b.yaml --release v0.10.46', 'validate', 'validate', { paths: ['a.yaml', 'b.yaml'], cluster: false, release: 'v0.10.46' }],
  ['validate -f - --cluster', 'validate', 'validate', { paths: ['-'], cluster: true }],
  ['apply -f x.yaml', 'apply', 'apply', { paths: ['x.yaml'], forceConflicts: false, wait: false, timeoutMs: 2 * m }],
  ['apply -f x.yaml --dry-run server --force-conflicts --wait --timeout 30s', 'apply', 'apply', { paths: ['x.yaml'], dryRun: 'server', forceConflicts: true, wait: true, timeoutMs: 30_000 }],
  ['migrate', 'migrate', 'migrate', { paths: [], out: '-', force: false, fromCluster: false, includeRuns: false }],
  ['migrate --from-cluster --include-runs --out dir --force', 'migrate', 'migrate', { paths: [], out: 'dir', force: true, fromCluster: true, includeRuns: true }],
  ['instances list', 'instances', 'listInstances', { allNamespaces: false, watch: false, headers: true }],
  ['inst ls -A -l team=a -w --no-headers', 'instances', 'listInstances', { allNamespaces: true, selector: 'team=a', watch: true, headers: false }],
  ['agents get demo --no-headers', 'instances', 'getInstance', { name: 'demo', headers: false }],
  ['instances describe demo', 'instances', 'describeInstance', { name: 'demo' }],
  ['instances rm a b --no-wait --timeout 10s', 'instances', 'deleteInstances', { names: ['a', 'b'], all: false, wait: false, timeoutMs: 10_000 }],
  ['instances delete --all', 'instances', 'deleteInstances', { names: [], all: true, wait: true, timeoutMs: 2 * m }],
  ['enable web-endpoint demo', 'enable', 'enableWebEndpoint', { instance: 'demo', recreate: false, wait: true, timeoutMs: 5 * m }],
  ['enable web-endpoint demo --rpm 120 --burst 20 --hostname h.example --auth-secret s --recreate --no-wait', 'enable', 'enableWebEndpoint', { instance: 'demo', rpm: 120, burst: 20, hostname: 'h.example', authSecret: 's', recreate: true, wait: false, timeoutMs: 5 * m }],
  ['disable web-endpoint demo --timeout 1m', 'enable', 'disableWebEndpoint', { instance: 'demo', wait: true, timeoutMs: m }],
  ['key show demo --reveal', 'key', 'showKey', { instance: 'demo', reveal: true }],
  ['key rotate demo --allow-http', 'key', 'rotateKey', { instance: 'demo', timeoutMs: 3 * m, allowHttp: true }],
  ['run demo hello --no-wait --logs --cancel-on-interrupt', 'run', 'runTask', { instance: 'demo', task: 'hello', wait: false, timeoutMs: 15 * m, cancelOnInterrupt: true, logs: true }],
  ['run demo -f task.md --no-cancel-on-interrupt', 'run', 'runTask', { instance: 'demo', file: 'task.md', wait: true, timeoutMs: 15 * m, cancelOnInterrupt: false, logs: false }],
  ['run demo', 'run', 'runTask', { instance: 'demo', wait: true, timeoutMs: 15 * m, cancelOnInterrupt: undefined, logs: false }],
  ['runs list --instance demo --phase failed --limit 3 --source web-proxy', 'runsList', 'listRuns', { instance: 'demo', phase: 'Failed', source: 'web-proxy', allNamespaces: false, limit: 3, watch: false, headers: true }],
  ['runs ls -A -w --no-headers', 'runsList', 'listRuns', { allNamespaces: true, watch: true, headers: false }],
  ['runs get r1', 'runs', 'getRun', { name: 'r1', logs: false, headers: true }],
  ['runs get r1 --logs', 'runs', 'getRun', { name: 'r1', logs: true, headers: true }],
  ['runs logs r1 -f --tail 0 --since 5m -c agent --timestamps', 'runsLogs', 'runLogs', { name: 'r1', follow: true, tail: 0, sinceMs: 5 * m, container: 'agent', allContainers: false, timestamps: true }],
  ['runs logs r1 --all-containers', 'runsLogs', 'runLogs', { name: 'r1', follow: false, allContainers: true, timestamps: false }],
  ['runs cancel a b', 'runsRemove', 'cancelRuns', { names: ['a', 'b'] }],
  ['runs delete --instance demo --phase succeeded', 'runsRemove', 'deleteRuns', { names: [], instance: 'demo', phase: 'Succeeded' }],
  ['runs tail demo --run r --until-done --wait-for-create --timeout 1m --since 10m --source web-proxy', 'runsTail', 'tailRuns', { instance: 'demo', run: 'r', untilDone: true, waitForCreate: true, timeoutMs: m, sinceMs: 10 * m, source: 'web-proxy' }],
  ['chat demo hi --no-stream --history none --timeout 1m --json --key k', 'chat', 'chat', { instance: 'demo', message: 'hi', stream: false, streamExplicit: true, history: 'none', timeoutMs: m, json: true, key: 'k', allowHttp: false, cancelOnInterrupt: undefined }],
  ['chat demo -m from-flag ignored-argument -s sys --url http://x --key-file f --allow-http --no-cancel-on-interrupt', 'chat', 'chat', { instance: 'demo', message: 'from-flag', system: 'sys', streamExplicit: false, url: 'http://x', keyFile: 'f', allowHttp: true, history: 'fold', timeoutMs: 15 * m, json: false, cancelOnInterrupt: false }],
  ['models demo --url http://x', 'models', 'models', { instance: 'demo', url: 'http://x', allowHttp: false }],
  ['env demo --format dotenv --port 9000 --reveal --mcp', 'env', 'env', { instance: 'demo', format: 'dotenv', port: 9000, reveal: true, mcp: true, allowHttp: false }],
  ['proxy demo', 'proxy', 'proxy', { instance: 'demo', port: 8080, address: '127.0.0.1', mcp: false, allowHttp: false }],
  ['proxy demo --port 0 --address 0.0.0.0 --local-key --format fish', 'proxy', 'proxy', { instance: 'demo', port: 0, address: '0.0.0.0', localKey: true, format: 'fish', mcp: false, allowHttp: false }],
  ['proxy demo --local-key secret', 'proxy', 'proxy', { instance: 'demo', port: 8080, address: '127.0.0.1', localKey: 'secret', mcp: false, allowHttp: false }],
  ['mcp demo tools', 'mcp', 'mcp', { instance: 'demo', action: 'tools', args: [], timeoutMs: 15 * m, allowHttp: false }],
  ['mcp demo call ask --arg a=1 --arg b=2 --timeout 30s', 'mcp', 'mcp', { instance: 'demo', action: 'call', tool: 'ask', args: ['a=1', 'b=2'], timeoutMs: 30_000, allowHttp: false }],
  ['mcp demo serve --stdio --key k', 'mcpServe', 'serveMcp', { instance: 'demo', key: 'k', allowHttp: false }],
  ['doctor', 'doctor', 'doctor', { instance: undefined }],
  ['doctor demo', 'doctor', 'doctor', { instance: 'demo' }],
  ['dev up --port 6443 --release v0.10.46 --persist --merge-kubeconfig --foreground --state-dir d', 'dev', 'devUp', { port: 6443, release: 'v0.10.46', persist: true, mergeKubeconfig: true, foreground: true, stateDir: 'd' }],
  ['dev down --state-dir d', 'dev', 'devDown', { stateDir: 'd' }],
  ['dev status', 'dev', 'devStatus', { stateDir: undefined }],
  ['dev env', 'dev', 'devEnv', { stateDir: undefined }],
  ['dev logs', 'dev', 'devLogs', { stateDir: undefined }],
  ['completion zsh', 'completion', 'completion', { shell: 'zsh' }],
  ['version --client', 'version', 'version', { client: '0.0.0-test', clientOnly: true }],
];

describe('argv -> the options each command function receives', () => {
  it.each(table)('%s', async (argv, module, fn, options) => {
    const call = await called(argv.split(' '));
    expect({ module: call.module, fn: call.fn }).toEqual({ module, fn });
    // toStrictEqual: no option the command does not expect, none missing, and types exact (numbers, not strings).
    // An option left undefined is the same as one not passed.
    expect(defined(call.options)).toStrictEqual(defined(options));
  });

  it('covers every command of the surface', async () => {
    const { program } = await parse([], true);
    const leaves = allCommands(program).filter((command) => command.commands.length === 0).map((command) => commandPath(command));
    const covered = new Set(table.map(([argv]) => commandPath(findCommand(program, argv.split(' ')))));
    expect(leaves.filter((path) => !covered.has(path))).toEqual([]);
    expect(program.commands.map((command) => command.name())).toEqual(knownCommands);
  });

  it('reads the global flags once, typed', async () => {
    const call = await called('-n team-a -o json --context c --kubeconfig k --request-timeout 5s --as u --as-group g1 --as-group g2 --as-uid 7 -y -q -v --no-color instances list'.split(' '));
    expect(call.globals).toStrictEqual({
      kubeconfig: 'k',
      context: 'c',
      namespace: 'team-a',
      output: 'json',
      outputTemplate: undefined,
      outputTemplateFile: undefined,
      outputExplicit: true,
      yes: true,
      quiet: true,
      verbose: true,
      color: false,
      requestTimeoutMs: 5_000,
      as: 'u',
      asGroups: ['g1', 'g2'],
      asUid: '7',
    });
    const defaults = await called(['doctor']);
    expect(defaults.globals).toMatchObject({ output: 'table', outputExplicit: false, yes: false, color: true, namespace: undefined });
    const template = await called(['runs', 'list', '-o', 'jsonpath={.items[*].metadata.name}']);
    expect(template.globals).toMatchObject({ output: 'jsonpath', outputTemplate: '{.items[*].metadata.name}', outputExplicit: true });
    const columns = await called(['instances', 'get', 'demo', '-o', 'custom-columns=NAME:.metadata.name']);
    expect(columns.globals).toMatchObject({ output: 'custom-columns', outputTemplate: 'NAME:.metadata.name' });
  });
});

/** The command an argv names, following subcommand names and aliases. */
function findCommand(program: CommandUnknownOpts, argv: string[]): CommandUnknownOpts {
  let command = program;
  for (const word of argv) {
    const next = command.commands.find((sub) => sub.name() === word || sub.aliases().includes(word));
    if (!next) break;
    command = next;
  }
  return command;
}

describe('usage errors: exit 2, and no command function runs', () => {
  it.each([
    ['runs list --phase Bogus'],
    ['instances get Bad_Name'],
    ['-n Bad_NS instances list'],
    ['apply'],
    ['validate'],
    ['init --provider nope'],
    ['init --thinking extreme'],
    ['apply -f x --dry-run maybe'],
    ['apply -f x --timeout soon'],
    ['chatt demo'],
    ['key show demo --revel'],
    ['key show'],
    ['runs logs r -c a --all-containers'],
    ['runs logs r --tail -1'],
    ['runs cancel Bad_Run'],
    ['mcp demo bogus'],
    ['mcp demo call'],
    ['mcp demo serve'],
    ['mcp demo serve --stdio -o json'],
    ['mcp demo call ask -o name'],
    ['proxy demo --port 70000'],
    ['env demo --format xml'],
    ['enable web-endpoint demo --rpm 0'],
    ['enable web-endpoint demo --auth-secret Bad_Secret'],
    ['dev up --release v9'],
    ['-o xml doctor'],
    ['--request-timeout 0 doctor'],
    ['instances list -o jsonpath'],
    ['instances list -o jsonpath={.items[*]'],
    ['instances list -o jsonpath={range.items[*]}'],
    ['instances list -o custom-columns=NAME'],
    ['instances list -o jsonpath-file=/nonexistent/template'],
    ['instances list -o jsonpath-as-json={.items}'],
    ['runs get r -o wide'],
    ['doctor -o name'],
  ])('%s', async (argv) => {
    const { code, calls } = await parse(argv.split(' '), argv.startsWith('chatt'));
    expect(code).toBe(2);
    expect(calls).toEqual([]);
  });
});

/** A command line that reaches `path`'s function: its required arguments and options filled in. */
function minimalArgv(program: CommandUnknownOpts, path: string): string[] {
  let command = program;
  for (const name of path.split(' ')) command = command.commands.find((sub) => sub.name() === name)!;
  const values: Record<string, string> = { shell: 'bash', action: 'tools' };
  const args = command.registeredArguments.filter((argument) => argument.required).map((argument) => values[argument.name()] ?? 'demo');
  const required = command.options.filter((option) => option.mandatory).flatMap((option) => [option.long!, 'x.yaml']);
  return [...path.split(' '), ...args, ...required];
}

const flagFor = (format: OutputFormat) => (format === 'jsonpath' ? 'jsonpath={.metadata.name}' : format === 'custom-columns' ? 'custom-columns=NAME:.metadata.name' : format);

describe('output formats: every command prints what it declares and refuses the rest (exit 2)', () => {
  it('every command declares its formats, and every declaration names a command', async () => {
    const { program } = await parse([], true);
    const leaves = allCommands(program).filter((command) => command.commands.length === 0).map((command) => commandPath(command));
    expect([...leaves].sort()).toEqual(Object.keys(outputFormatsOf).sort());
  });

  it.each(Object.keys(outputFormatsOf))('%s', async (path) => {
    const { program } = await parse([], true);
    const argv = minimalArgv(program, path);
    for (const format of outputFormats) {
      const result = await parse([...argv, '-o', flagFor(format)]);
      const accepted = outputFormatsOf[path]!.includes(format);
      expect({ format, code: result.code, called: result.calls.length }).toEqual({ format, code: accepted ? 0 : 2, called: accepted ? 1 : 0 });
    }
    // -o json and -o yaml are never ignored: a command either prints them or refuses them.
    expect(outputFormatsOf[path]!.includes('json') || (await parse([...argv, '-o', 'json'])).code === 2).toBe(true);
  });
});
