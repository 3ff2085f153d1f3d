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

await build({
  entryPoints: { main: 'src/main.ts', 'dev-server': 'src/dev/dev-server.ts' },
  outdir,
  bundle: true,
  splitting: true,
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
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [lazyChildProcessForCommander],
  // The workspace package from this checkout, whatever node_modules' link points at (worktrees share one);
  // relative to the working directory, as the entry points are.
  alias: { '@sympozium/kube-emulator': './packages/kube-emulator/src/index.ts' },
  define: { __SYMPOZIUM_VERSION__: JSON.stringify(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version) },
});

// The upstream CRDs, SkillPacks and presets stay JSON files beside the bundle, read only when needed
// (src/sympozium/releases.ts says why); index.ts is bundled.
// Relative to the working directory, as esbuild's entry points are.
cpSync('src/sympozium/upstream-schemas/', `${outdir}upstream-schemas/`, {
  recursive: true,
  filter: (source) => !source.endsWith('.ts'),
});
