import { spawn, type IPty } from 'node-pty';

/**
 * Drives a command through a pseudo-terminal, send-keys style: write keystrokes, wait for text to appear.
 * Output is kept whole (ANSI sequences stripped) so a test can wait for something after a mark.
 */

export interface PtySession {
  write(keys: string): void;
  /** The current length of the output: wait for text that appears after this point. */
  mark(): number;
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  output(): string;
  exited(timeoutMs?: number): Promise<number>;
  kill(): void;
}

const ansi = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r/g;

export function spawnPty(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; cols?: number; rows?: number } = {}): PtySession {
  const env = Object.fromEntries(Object.entries(options.env ?? process.env).filter(([, value]) => value !== undefined && value !== '')) as Record<string, string>;
  const pty: IPty = spawn(file, args, { cwd: options.cwd, env, cols: options.cols ?? 160, rows: options.rows ?? 50, name: 'xterm-256color' });
  let text = '';
  let exitCode: number | undefined;
  const listeners = new Set<() => void>();
  pty.onData((data) => {
    text += data.replace(ansi, '');
    for (const listener of listeners) listener();
  });
  pty.onExit(({ exitCode: code }) => {
    exitCode = code;
    for (const listener of listeners) listener();
  });
  const until = <T>(check: () => T | undefined, timeoutMs: number, what: () => string): Promise<T> =>
    new Promise((resolve, reject) => {
      const done = check();
      if (done !== undefined) return resolve(done);
      const listener = () => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(value);
      };
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`${what()}\n--- terminal output ---\n${text}`));
      }, timeoutMs);
      listeners.add(listener);
    });
  return {
    write: (keys) => pty.write(keys),
    mark: () => text.length,
    output: () => text,
    // Generous: the first answer of a session opens a port-forward, and CI runs suites side by side on 2 cores.
    waitFor: (pattern, from = 0, timeoutMs = 20_000) =>
      until(() => pattern.exec(text.slice(from))?.[0], timeoutMs, () => `timed out waiting for ${pattern}`),
    exited: (timeoutMs = 10_000) => until(() => exitCode, timeoutMs, () => 'timed out waiting for the process to exit'),
    kill: () => {
      if (exitCode === undefined) pty.kill();
    },
  };
}
