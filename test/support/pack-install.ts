import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Installed {
  /** The installed `sympozium` command (prefix/bin/sympozium). */
  bin: string;
  tarball: string;
  /** What `npm install -g` printed on stderr (warnings included). */
  installStderr: string;
  /** The files the tarball holds, as `npm pack --json` lists them. */
  files: string[];
  /** Bytes on disk under the prefix's lib/node_modules, and the packages installed there. */
  bytes: number;
  packages: number;
}

function npm(args: string[], cwd: string): { stdout: string; stderr: string } {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (exit ${result.status}):\n${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

function sizeOf(dir: string): { bytes: number; packages: number } {
  let bytes = 0;
  let packages = 0;
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        bytes += statSync(full).size;
        // A package is a directory straight under a node_modules (or @scope) with its package.json.
        if (entry.name === 'package.json' && /[\\/]node_modules[\\/](@[^\\/]+[\\/])?[^\\/@]+$/.test(current)) packages++;
      }
    }
  };
  walk(dir);
  return { bytes, packages };
}

/**
 * Packs a package directory laid out as the repository (bin/, dist/ already built, templates/, README, LICENSE)
 * and installs the tarball globally into `work`/prefix, offline: what `npm i -g sympozium` gives a user.
 * Scripts are not run at pack time: `prepare` would rebuild dist/, and the caller has a fresh one.
 */
export function packAndInstall(packageDir: string, work: string): Installed {
  for (const file of ['README.md', 'LICENSE']) cpSync(path.join(repoRoot, file), path.join(packageDir, file));
  mkdirSync(path.join(work, 'packed'), { recursive: true });
  const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', path.join(work, 'packed')], packageDir).stdout) as { filename: string; files: { path: string }[] }[];
  const tarball = path.join(work, 'packed', packed[0]!.filename);
  const prefix = path.join(work, 'prefix');
  const install = npm(['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], work);
  return {
    bin: path.join(prefix, 'bin', 'sympozium'),
    tarball,
    installStderr: install.stderr,
    files: packed[0]!.files.map((file) => file.path).sort(),
    ...sizeOf(path.join(prefix, 'lib', 'node_modules')),
  };
}
