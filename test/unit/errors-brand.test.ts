import { describe, expect, it } from 'vitest';
import { CliError, InterruptedError, usageError } from '../../src/errors.js';

/**
 * dist/chat.js and dist/vendor/kubeconfig-edit.js bundle separate copies of errors.ts (scripts/build.mjs), so a
 * CliError made by one copy must still be a CliError to the other, or main.ts would call a user's mistake
 * "a bug in sympozium". A second copy of the module is loaded here the way Vite makes one: by a query.
 */
describe('CliError across copies of errors.ts', () => {
  it('a plain CliError from another copy is a CliError; subclasses stay exact', async () => {
    const specifier = '../../src/errors.ts?second-copy';
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('../../src/errors.js');
    expect(copy.CliError).not.toBe(CliError);
    const foreign = new copy.CliError('cannot parse kubeconfig', { hint: 'Fix the file.' });
    expect(foreign instanceof CliError).toBe(true);
    expect(copy.usageError('bad') instanceof CliError).toBe(true);
    expect(usageError('bad') instanceof copy.CliError).toBe(true);
    expect(new InterruptedError() instanceof CliError).toBe(true);
    // Subclasses keep the prototype check: another copy's InterruptedError is a CliError, but not this copy's InterruptedError.
    expect(new copy.InterruptedError() instanceof InterruptedError).toBe(false);
    expect(new CliError('x') instanceof InterruptedError).toBe(false);
    expect(new Error('plain') instanceof CliError).toBe(false);
    expect((null as unknown) instanceof CliError).toBe(false);
    expect({ message: 'shaped like one' } instanceof CliError).toBe(false);
  });
});
