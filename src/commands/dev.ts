// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
interface DevUpOptions { foreground: boolean; port?: number; persist: boolean; mergeKubeconfig: boolean; stateDir?: string }
export async function devUp(_o: DevUpOptions, _c: Context): Promise<void> { pending(); }
export async function devDown(_o: { stateDir?: string }, _c: Context): Promise<void> { pending(); }
export async function devStatus(_o: { stateDir?: string }, _c: Context): Promise<void> { pending(); }
export async function devEnv(_o: { stateDir?: string }, _c: Context): Promise<void> { pending(); }
export async function devLogs(_o: { stateDir?: string }, _c: Context): Promise<void> { pending(); }
