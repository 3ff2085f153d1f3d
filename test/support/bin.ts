import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const binPath = fileURLToPath(new URL('../../bin/sympozium.js', import.meta.url));

/** Builds dist/ once per test file when it is missing (npm test builds before running vitest). */
export function ensureBuilt(): void {
  if (existsSync(new URL('../../dist/main.js', import.meta.url))) return;
  const result = spawnSync('node', ['scripts/build.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('build failed');
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, without a TTY, with colours off. */
export function runBin(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return spawnBin(binPath, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, CI: '1', FORCE_COLOR: '0', NO_COLOR: '1', ...options.env },
    input: options.input,
    timeoutMs: options.timeoutMs,
  });
}

/** Runs a bin with exactly the environment given, collecting its output; rejects when it does not finish. */
export function spawnBin(
  bin: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sympozium ${args.join(' ')} did not finish\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // A command that fails early may close stdin before the input is written.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
