// Bundles the CLI with esbuild. Two entry points: the CLI itself and the local control plane's server process.
// Code splitting keeps each command in its own chunk, so `sympozium --version` loads only the command surface
// and a command loads only what it imports (client-node, inquirer and ora stay out of start-up).
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const outdir = new URL('../dist/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: { main: 'src/main.ts', 'dev-server': 'src/local/dev-server.ts' },
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
  define: { __SYMPOZIUM_VERSION__: JSON.stringify(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version) },
});
