// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
export interface InitOptions { name?: string; [flag: string]: unknown }
export async function init(_o: InitOptions, _c: Context): Promise<void> { pending(); }
