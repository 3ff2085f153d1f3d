// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
export async function models(_o: { instance: string; url?: string; key?: string }, _c: Context): Promise<void> { pending(); }
