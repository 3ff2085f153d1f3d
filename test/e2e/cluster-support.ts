import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { binPath, repoRoot } from '../support/bin.js';

/** A long-running bin (runs tail) whose stdout lines a test can wait on, then stop with Ctrl-C. */
export interface Follower {
  lines: string[];
  stderr: () => string;
  waitFor(predicate: (lines: string[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Sends SIGINT and resolves with the exit code. */
  interrupt(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function follow(args: string[], env: NodeJS.ProcessEnv): Follower {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [binPath, ...args], {
    cwd: repoRoot,
    env: { ...process.env, CI: '1', FORCE_COLOR: '0', NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => {
    for (const wake of waiters) wake();
    resolve(code);
  }));
  let done = false;
  void exited.then(() => (done = true));
  return {
    lines,
    stderr: () => stderr,
    exited,
    waitFor(predicate, what, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(lines)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (done) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`exited before ${what}\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}\nstdout:\n${lines.join('\n')}\nstderr:\n${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async interrupt() {
      if (!done) child.kill('SIGINT');
      return exited;
    },
  };
}
