// Benchmarks run the TypeScript sources: this bundles one entry point with esbuild (dependencies left as bare
// imports, resolved from the repository's node_modules) and imports it. esbuild's service is stopped afterwards
// so that it does not run, and cost CPU, during the measurements.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, stop } from 'esbuild';

export const root = fileURLToPath(new URL('..', import.meta.url));

export async function importSource(entry) {
  // Under node_modules/.cache, so that the bundle's bare imports (yaml, ws, ...) resolve from the repository.
  const outDir = join(root, 'node_modules', '.cache', 'sympozium-bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${entry.replace(/[^a-z0-9]+/gi, '-')}-${process.pid}.mjs`);
  await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile,
    // Dependencies stay bare imports, except the workspace's own packages: they ship TypeScript sources.
    plugins: [
      {
        name: 'external-but-workspace',
        setup(pluginBuild) {
          pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@sympozium/') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
    logLevel: 'error',
    absWorkingDir: root,
  });
  await stop();
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    // Once imported, the module lives in memory: leave nothing behind.
    rmSync(outfile, { force: true });
  }
}
