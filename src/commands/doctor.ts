// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
export async function doctor(_o: Record<string, never>, _c: Context): Promise<void> { pending(); }
