import { CliError } from '../errors.js';
import type { KubeClient, KubeObject } from './client.js';
import { isConflict } from './errors.js';

/**
 * Read-modify-write for custom resources: read the object, let `mutate` compute a JSON merge patch from it,
 * and send the patch with the resourceVersion it was computed from, so the server refuses it (409) if
 * someone else wrote in between. Then read again and retry, a bounded number of times. A merge patch
 * replaces whole lists, which is exactly why the resourceVersion guard matters (spec.skills).
 */
export interface UpdateResult<T> {
  object: T;
  /** False when `mutate` said there was nothing to change: nothing was sent. */
  changed: boolean;
  attempts: number;
}

export async function updateWithRetry<T extends { metadata: { resourceVersion?: string } } = KubeObject>(
  kube: KubeClient,
  path: string,
  mutate: (current: T) => Record<string, unknown> | undefined,
  options: { attempts?: number; delayMs?: number; what?: string } = {},
): Promise<UpdateResult<T>> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt += 1) {
    const current = await kube.get<T>(path);
    const patch = mutate(current);
    if (!patch) return { object: current, changed: false, attempts: attempt };
    const metadata = { ...((patch.metadata as Record<string, unknown> | undefined) ?? {}), resourceVersion: current.metadata.resourceVersion };
    try {
      const object = await kube.mergePatch<T>(path, { ...patch, metadata });
      return { object, changed: true, attempts: attempt };
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (attempt >= attempts) {
        throw new CliError(`${options.what ?? path} kept changing while sympozium tried to update it (${attempts} conflicts in a row)`, {
          hint: 'Something else (a controller or another user) is writing it constantly. Try again in a moment.',
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, (options.delayMs ?? 50) * attempt));
    }
  }
}
