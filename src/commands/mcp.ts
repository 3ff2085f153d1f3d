// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
export async function mcp(_o: { instance: string; action: 'tools' | 'call'; tool?: string; args: string[]; url?: string; key?: string; timeoutMs: number }, _c: Context): Promise<void> { pending(); }
