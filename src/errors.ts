/** Exit codes, as the README promises them to scripts. */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface CliErrorOptions {
  /** One line telling the user what to do next. */
  hint?: string;
  exitCode?: ExitCodeValue;
  cause?: unknown;
}

const cliErrorBrand = Symbol.for('sympozium.CliError');

/**
 * An error a user can act on. Commands and the layers below them throw it; only main.ts prints it and exits.
 * The message must never contain a secret: callers pass names of Secrets, never their values.
 */
export class CliError extends Error {
  /**
   * dist/chat.js and dist/vendor/kubeconfig-edit.js each bundle their own copy of this class (scripts/build.mjs),
   * so one process can meet a CliError made by the other copy: it is recognised by its brand, not by which copy
   * made it. Subclasses keep the ordinary prototype check; only the plain CliError crosses copies.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== CliError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [cliErrorBrand]?: unknown })[cliErrorBrand] === true;
  }

  readonly [cliErrorBrand] = true;
  readonly hint?: string;
  readonly exitCode: ExitCodeValue;

  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failed;
  }
}

/** Bad usage or invalid input: exit code 2. */
export function usageError(message: string, hint?: string): CliError {
  return new CliError(message, { hint, exitCode: ExitCode.usage });
}

/** Thrown when the user pressed Ctrl-C; main.ts exits 130 without a message. */
export class InterruptedError extends CliError {
  constructor() {
    super('interrupted', { exitCode: ExitCode.interrupted });
    this.name = 'InterruptedError';
  }
}

