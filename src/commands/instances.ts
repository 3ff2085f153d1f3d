// PLACEHOLDER: owned by a helper, replaced by the real implementation.
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
const pending = () => { throw new CliError('this command is being built'); };
export async function listInstances(_o: { allNamespaces: boolean; selector?: string }, _c: Context): Promise<void> { pending(); }
export async function getInstance(_o: { name: string }, _c: Context): Promise<void> { pending(); }
export async function describeInstance(_o: { name: string }, _c: Context): Promise<void> { pending(); }
export async function deleteInstance(_o: { name: string; wait: boolean; timeoutMs: number }, _c: Context): Promise<void> { pending(); }
