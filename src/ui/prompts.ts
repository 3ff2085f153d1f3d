import { InterruptedError, usageError } from '../errors.js';

interface Choice<T extends string = string> {
  value: T;
  name?: string;
  description?: string;
  checked?: boolean;
}

/**
 * The questions a command can ask. Tests pass a fake that answers from a script; the real one asks through
 * inquirer, which is imported only here and only when a question is really asked.
 */
export interface Prompter {
  input(question: { message: string; default?: string; validate?: (value: string) => true | string }): Promise<string>;
  password(question: { message: string }): Promise<string>;
  confirm(question: { message: string; default?: boolean }): Promise<boolean>;
  select<T extends string>(question: { message: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  checkbox<T extends string>(question: { message: string; choices: Choice<T>[] }): Promise<T[]>;
}

export function createInquirerPrompter(): Prompter {
  const ask = async <T>(question: Record<string, unknown>): Promise<T> => {
    const { default: inquirer } = await import('inquirer');
    try {
      const answers = (await inquirer.prompt([{ ...question, name: 'answer' } as never])) as { answer: T };
      return answers.answer;
    } catch (error) {
      // Ctrl-C inside a prompt: leave quietly with exit code 130.
      if (error instanceof Error && error.name === 'ExitPromptError') throw new InterruptedError();
      throw error;
    }
  };
  return {
    input: (q) => ask({ type: 'input', message: q.message, default: q.default, validate: q.validate }),
    password: (q) => ask({ type: 'password', message: q.message, mask: '*' }),
    confirm: (q) => ask({ type: 'confirm', message: q.message, default: q.default }),
    select: (q) => ask({ type: 'select', message: q.message, choices: q.choices, default: q.default }),
    checkbox: (q) => ask({ type: 'checkbox', message: q.message, choices: q.choices }),
  };
}

export interface AskContext {
  prompt: Prompter;
  interactive: boolean;
  yes: boolean;
}

/**
 * The one rule for every question: the flag's value if given, else the default under --yes, else ask.
 * Without a terminal there is nobody to ask, so a missing value names the flag that supplies it.
 */
export async function resolveAnswer<T>(
  ctx: AskContext,
  spec: { value: T | undefined; default?: T; flag: string; ask: (prompt: Prompter) => Promise<T> },
): Promise<T> {
  if (spec.value !== undefined) return spec.value;
  if (ctx.yes || !ctx.interactive) {
    if (spec.default !== undefined) return spec.default;
    throw usageError(`missing value for ${spec.flag}`, `Pass ${spec.flag} <value>, or run in a terminal to be asked.`);
  }
  return spec.ask(ctx.prompt);
}
