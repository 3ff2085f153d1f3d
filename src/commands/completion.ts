// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
import type { Command } from 'commander';
export async function completion(_o: { shell: string; program: Command }, _c: Context): Promise<void> { pending(); }
export async function completeNames(_o: { kind: string }, _c: Context): Promise<void> { pending(); }
