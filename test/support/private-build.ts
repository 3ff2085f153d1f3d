import { spawnSync } from 'node:child_process';
import { spawnBin, type RunResult } from './bin.js';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A private copy of the package (bin/, package.json, templates/, a fresh dist/) for suites that run the built
 * bin: other suites rebuilding the shared dist/ at the same moment cannot pull it away mid-test. The bundle is
 * made by the project's own scripts/build.mjs, so it is the same one `npm run build` makes.
 */
export interface PrivateBuild {
  /** The package copy; also a good parent for per-test working directories. */
  dir: string;
  bin: string;
  remove(): void;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export function buildPrivateCopy(prefix = 'sympozium-build-'): PrivateBuild {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const pkg = path.join(dir, 'pkg');
  mkdirSync(path.join(pkg, 'scripts'), { recursive: true });
  for (const entry of ['bin', 'templates', 'package.json']) cpSync(path.join(repoRoot, entry), path.join(pkg, entry), { recursive: true });
  cpSync(path.join(repoRoot, 'scripts', 'build.mjs'), path.join(pkg, 'scripts', 'build.mjs'));
  // The build script imports esbuild from next to itself.
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(pkg, 'node_modules'));
  const build = spawnSync(process.execPath, [path.join(pkg, 'scripts', 'build.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`build failed:\n${build.stderr}`);
  return { dir, bin: path.join(pkg, 'bin', 'sympozium.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type BinResult = RunResult;

/** Runs a bin as a user would in a shell without a TTY: CI=1, FORCE_COLOR=0, a clean HOME. */
export function runPrivateBin(
  bin: string,
  args: string[],
  options: { cwd: string; input?: string | Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<BinResult> {
  return spawnBin(bin, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: options.cwd, CI: '1', FORCE_COLOR: '0', ...options.env },
    input: options.input,
    timeoutMs: options.timeoutMs,
  });
}
