import { spawn } from 'node:child_process';

/** A long-running command (a watch, a port-forward) whose output is collected until it is stopped. */
export function follow(command: string, args: string[], childEnv: NodeJS.ProcessEnv) {
  const child = spawn(command, args, { env: childEnv });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : null))));
  return {
    output: () => stdout,
    lines: () => stdout.split('\n').filter(Boolean),
    stderr: () => stderr,
    stop: async (signal: NodeJS.Signals = 'SIGINT') => {
      child.kill(signal);
      return closed;
    },
  };
}

/** Waits for what a followed command shows; bounded by rounds of 50 ms, it asserts no duration. */
export async function until(condition: () => boolean, what: string, detail: () => string = () => ''): Promise<void> {
  for (let round = 0; !condition(); round++) {
    if (round > 400) throw new Error(`never saw ${what}\n${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
