// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
export async function chat(_o: { instance: string; message?: string; system?: string; stream?: boolean; streamExplicit: boolean; url?: string; key?: string; history: 'fold' | 'send' | 'none'; timeoutMs: number; json: boolean }, _c: Context): Promise<void> { pending(); }
