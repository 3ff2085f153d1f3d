import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.js';
import { resolveAnswer, type Prompter } from '../../src/ui/prompts.js';

const asking = (answer: string): Prompter => ({
  input: async () => answer,
  password: async () => answer,
  confirm: async () => true,
  select: async () => answer as never,
  checkbox: async () => [answer] as never,
});

describe('resolveAnswer: flag, else --yes default, else ask', () => {
  it('prefers the flag over everything', async () => {
    expect(await resolveAnswer({ prompt: asking('asked'), interactive: true, yes: false }, { value: 'flag', default: 'def', flag: '--model', ask: (p) => p.input({ message: 'm' }) })).toBe('flag');
  });
  it('takes the default under --yes without asking', async () => {
    expect(await resolveAnswer({ prompt: asking('asked'), interactive: true, yes: true }, { value: undefined, default: 'def', flag: '--model', ask: (p) => p.input({ message: 'm' }) })).toBe('def');
  });
  it('asks on a terminal', async () => {
    expect(await resolveAnswer({ prompt: asking('asked'), interactive: true, yes: false }, { value: undefined, default: 'def', flag: '--model', ask: (p) => p.input({ message: 'm' }) })).toBe('asked');
  });
  it('without a terminal and without a default, names the flag to pass', async () => {
    const attempt = resolveAnswer({ prompt: asking('asked'), interactive: false, yes: false }, { value: undefined, flag: '--base-url', ask: (p) => p.input({ message: 'm' }) });
    await expect(attempt).rejects.toBeInstanceOf(CliError);
    await expect(attempt).rejects.toMatchObject({ exitCode: 2, message: expect.stringContaining('--base-url') });
  });
});
