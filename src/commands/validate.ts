// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
export async function validate(_o: { paths: string[]; cluster: boolean }, _c: Context): Promise<void> { pending(); }
