// Bundles the CLI with esbuild. Two entry points: the CLI itself and the local control plane's server process.
// Code splitting keeps each command in its own chunk, so `sympozium --version` loads only the command surface
// and a command loads only what it imports (client-node, inquirer and ora stay out of start-up).
import { build } from 'esbuild';
import { cpSync, readFileSync, rmSync } from 'node:fs';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });

/**
 * commander loads node:child_process at start-up (it can run `git-style` executable subcommands, which this CLI
 * never does), and that built-in costs ~5 ms of every command (--cpu-prof). Hand commander a stand-in that
 * loads the real module on first use instead, so behaviour is unchanged.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: `let real; const load = () => (real ??= require('node:child_process'));
module.exports = new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });`,
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minifySyntax: true,
  logLevel: 'warning',
  // CommonJS dependencies (client-node and its tree) call require(); give every output file one.
  banner: {
    js: "import { createRequire as __sympoziumCreateRequire } from 'node:module'; const require = __sympoziumCreateRequire(import.meta.url);",
  },
  // Optional native helpers some dependencies probe for; they are never needed by the CLI.
  external: ['bufferutil', 'utf-8-validate'],
  plugins: [lazyChildProcessForCommander],
  // The workspace package from this checkout, whatever node_modules' link points at (worktrees share one);
  // relative to the working directory, as the entry points are.
  alias: { '@sympozium/kube-emulator': './packages/kube-emulator/src/index.ts' },
  define: { __SYMPOZIUM_VERSION__: JSON.stringify(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version) },
};

// Every command, and the local control plane's server process.
await build({
  ...common,
  entryPoints: { main: 'src/main.ts', 'dev-server': 'src/dev/dev-server.ts' },
  outdir,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
});

/**
 * The commands people run most, `chat`, `key` and `run`, get a bundle each, dist/<command>.js (bin/sympozium.js
 * picks it when the command is the first word): the same src/main.ts, but one file instead of main.js and the
 * 26-30 chunks those commands load from the build above. Node 20's ESM loader pays for every file (resolve,
 * realpath, package scope, read, link), and esbuild's splitting gives each set of importers its own chunk.
 * Measured (medians of 21-41 interleaved runs): `key show --reveal` 151 -> 135 ms and `run --no-wait` 153 -> 137
 * ms against the local control plane; against an endpoint that answers at once, a blocking chat 150 -> 140 ms
 * and a streamed one 159 -> 142 ms to exit, its first token only 139 -> 136 ms (most of what precedes it is
 * commander and compiling the code, not files).
 * Splitting is off, so our own lazily imported modules are inlined (still initialised only when imported);
 * the large third-party packages these commands may load lazily (spinner, colours, YAML, proxies,
 * port-forward) stay out of them, in dist/vendor/ below, so start-up does not parse them. The worlds never
 * meet: a process runs main.js or one of these, each with one copy of every class.
 */
const oneFileCommands = ['chat', 'key', 'run'];
const vendored = {
  ora: "export { default } from 'ora';",
  chalk: "export { Chalk } from 'chalk';",
  yaml: "import * as yaml from 'yaml'; export default yaml;",
  'https-proxy-agent': "export { HttpsProxyAgent } from 'https-proxy-agent';",
  'socks-proxy-agent': "export { SocksProxyAgent } from 'socks-proxy-agent';",
  '@kubernetes/client-node/dist/portforward.js': "export { PortForward } from '@kubernetes/client-node/dist/portforward.js';",
  '@kubernetes/client-node/dist/web-socket-handler.js': "export { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';",
};
// Our own module that OIDC's token refresh writes the kubeconfig with: it imports the yaml package (235 KB)
// statically, so the one-file bundles import it from dist/vendor/ too. It throws CliError, which errors.ts recognises
// across the two copies (see there).
const vendoredSources = { './kubeconfig-edit.js': 'src/kube/kubeconfig-edit.ts' };
const vendorFile = (specifier) => specifier.replace(/^(@|\.\/)/, '').replace(/\.js$/, '').replace(/[/]/g, '-');

await build({
  ...common,
  entryPoints: {
    ...Object.fromEntries(Object.keys(vendored).map((specifier) => [`vendor/${vendorFile(specifier)}`, `vendored:${specifier}`])),
    ...Object.fromEntries(Object.entries(vendoredSources).map(([specifier, source]) => [`vendor/${vendorFile(specifier)}`, source])),
  },
  outdir,
  splitting: true,
  chunkNames: 'vendor/chunks/[name]-[hash]',
  plugins: [
    {
      name: 'vendored-entries',
      setup(pluginBuild) {
        pluginBuild.onResolve({ filter: /^vendored:/ }, (args) => ({ path: args.path.slice('vendored:'.length), namespace: 'vendored' }));
        pluginBuild.onLoad({ filter: /.*/, namespace: 'vendored' }, (args) => ({ contents: vendored[args.path], loader: 'js', resolveDir: process.cwd() }));
      },
    },
  ],
});

/** The resolution rules of dist/<command>.js: vendored packages, and no other command's modules. */
const onlyCommand = (command) => ({
  name: `only-${command}`,
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /.*/ }, (args) => {
      // None of these commands asks a question (only init, enable and the delete commands prompt), so inquirer
      // (765 KB with its encoders) has no copy for them: the import fails saying so, should that change.
      if (args.path === 'inquirer' && args.kind === 'dynamic-import') return { path: 'inquirer', namespace: 'not-in-bundle' };
      if (args.path in vendoredSources && args.kind === 'dynamic-import') return { path: `./vendor/${vendorFile(args.path)}.js`, external: true };
      if (args.path in vendored) {
        // A static import would be hoisted to the top of the bundle and loaded at start-up, and would be a
        // second copy beside the vendored one: refuse it, so a later change cannot slow start-up unnoticed.
        if (args.kind !== 'dynamic-import') throw new Error(`${args.importer} imports ${args.path} statically; dist/${command}.js loads it only through dist/vendor/`);
        return { path: `./vendor/${vendorFile(args.path)}.js`, external: true };
      }
      // The other commands: only the command a line names is registered, and bin/sympozium.js sends only lines
      // that start with this command here, so their modules are never imported. Should that ever change, the
      // import fails saying so instead of running a second copy of the CLI.
      const own = new RegExp(`commands[/]${command}\\.js$`);
      if (args.kind === 'dynamic-import' && /[\\/]src[\\/](cli[\\/]surface|main)\.ts$/.test(args.importer) && /commands[/]/.test(args.path) && !own.test(args.path)) {
        return { path: args.path, namespace: 'not-in-bundle' };
      }
      return undefined;
    });
    pluginBuild.onLoad({ filter: /.*/, namespace: 'not-in-bundle' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`dist/${command}.js has no ${args.path}: it runs only \`sympozium ${command}\`, and bin/sympozium.js sends every other line to dist/main.js`)});`,
      loader: 'js',
    }));
  },
});

/**
 * In one file, every static import of a built-in would be hoisted to its top and loaded at start-up, where the
 * split build loads node:tls, node:https, node:readline … only with the chunk that needs them (tls alone is
 * ~5 ms). So the one-file bundles require each built-in when the module importing it is first initialised.
 */
const builtinsOnFirstUse = {
  name: 'builtins-on-first-use',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^node:/ }, (args) => (args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin-on-first-use' } : undefined));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'builtin-on-first-use' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

/**
 * js-yaml (91 KB) reads kubeconfigs, which chat does only after its request has left (for the run's details)
 * or when it has no --url; kube/config.ts imports it statically, so it would be parsed at the bundle's start.
 * Given as a CommonJS file, it is required when kube/config.ts is first initialised instead.
 */
await build({
  ...common,
  banner: undefined,
  entryPoints: { 'vendor/js-yaml': 'node_modules/js-yaml/dist/js-yaml.mjs' },
  outExtension: { '.js': '.cjs' },
  outdir,
  format: 'cjs',
});
const jsYamlOnFirstUse = {
  name: 'js-yaml-on-first-use',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^js-yaml$/ }, (args) => (args.kind === 'import-statement' ? { path: 'js-yaml', namespace: 'js-yaml-on-first-use' } : undefined));
    pluginBuild.onResolve({ filter: /^\.\/vendor\/js-yaml\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    pluginBuild.onLoad({ filter: /.*/, namespace: 'js-yaml-on-first-use' }, () => ({ contents: "module.exports = require('./vendor/js-yaml.cjs');", loader: 'js' }));
  },
};

for (const command of oneFileCommands) {
  await build({
    ...common,
    entryPoints: { [command]: 'src/main.ts' },
    outdir,
    splitting: false,
    plugins: [...common.plugins, onlyCommand(command), builtinsOnFirstUse, jsYamlOnFirstUse],
  });
}

// The upstream CRDs, SkillPacks and presets stay JSON files beside the bundle, read only when needed
// (src/sympozium/releases.ts says why); index.ts is bundled.
// Relative to the working directory, as esbuild's entry points are.
cpSync('src/sympozium/upstream-schemas/', `${outdir}upstream-schemas/`, {
  recursive: true,
  filter: (source) => !source.endsWith('.ts'),
});
