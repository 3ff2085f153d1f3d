// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
export async function listRuns(_o: { instance?: string; source?: string; phase?: string; allNamespaces: boolean; limit?: number }, _c: Context): Promise<void> { pending(); }
export async function getRun(_o: { name: string }, _c: Context): Promise<void> { pending(); }
export async function tailRuns(_o: { instance?: string; run?: string; sinceMs?: number; untilDone: boolean; source?: string }, _c: Context): Promise<void> { pending(); }
