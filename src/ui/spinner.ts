import type { Output } from './output.js';

export interface Spinner {
  /** Changes the text; silent spinners log each new stage under --verbose instead. */
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

export interface SpinnerEnvironment {
  out: Output;
  env: NodeJS.ProcessEnv;
}

/**
 * A spinner on stderr when a person is watching; otherwise nothing (no TTY, CI, --quiet, machine output).
 * ora is imported only here and only when a spinner will really spin.
 */
export async function startSpinner(ctx: SpinnerEnvironment, text: string, options: { unless?: () => boolean } = {}): Promise<Spinner> {
  const { out, env } = ctx;
  // A terminal that reports no width (a pty opened without a size) would make ora redraw endlessly.
  const columns = (out.stderr as { columns?: number }).columns;
  const interactive = Boolean(out.stderr.isTTY) && columns !== 0 && !env.CI && !out.quiet && !out.machine;
  if (!interactive) return silentSpinner(out, text);
  const { default: ora } = await import('ora');
  // Asked once ora is loaded, right before the first frame: output that began meanwhile (a streamed answer
  // on the same terminal) must not get a spinner drawn into its middle.
  if (options.unless?.()) return { update: () => {}, succeed: () => {}, fail: () => {}, stop: () => {} };
  const spinner = ora({ text, stream: out.stderr as NodeJS.WritableStream, discardStdin: false }).start();
  return {
    update: (next) => {
      spinner.text = next;
    },
    succeed: (final) => void spinner.succeed(final),
    fail: (final) => void spinner.fail(final),
    stop: () => void spinner.stop(),
  };
}

function silentSpinner(out: Output, text: string): Spinner {
  out.debug(text);
  let current = text;
  return {
    update: (next) => {
      if (next !== current) out.debug(next);
      current = next;
    },
    succeed: (final) => out.success(final ?? current),
    fail: (final) => {
      if (final) out.info(final);
    },
    stop: () => {},
  };
}
