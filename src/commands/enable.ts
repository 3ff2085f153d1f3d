// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
export async function enableWebEndpoint(_o: { instance: string; rpm?: number; burst?: number; hostname?: string; authSecret?: string; wait: boolean; timeoutMs: number }, _c: Context): Promise<void> { pending(); }
export async function disableWebEndpoint(_o: { instance: string; wait: boolean; timeoutMs: number }, _c: Context): Promise<void> { pending(); }
