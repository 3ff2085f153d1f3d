// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
export async function showKey(_o: { instance: string; reveal: boolean }, _c: Context): Promise<void> { pending(); }
export async function rotateKey(_o: { instance: string; timeoutMs: number }, _c: Context): Promise<void> { pending(); }
