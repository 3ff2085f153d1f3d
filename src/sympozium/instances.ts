import { CliError } from '../errors.js';
import { resourcePath, type KubeClient } from '../kube/client.js';
import { isNotFound, isUnservedApi } from '../kube/errors.js';
import { discoverInstanceKind, instancePath, kindNoun, sympoziumInstanceKind, type InstanceKind } from './kinds.js';
import { suggestValue } from './suggest.js';
import type { SympoziumInstance } from './types.js';

/**
 * Reading instances with errors that say what to do next: when one is not found, look for it in other
 * namespaces and check that the namespace exists, because "not found" after a wrong -n is the commonest
 * mistake a new user makes.
 */

export interface InstanceRef {
  kind: InstanceKind;
  namespace: string;
  name: string;
  path: string;
}

export async function instanceRef(kube: KubeClient, name: string, namespace = kube.namespace): Promise<InstanceRef> {
  const kind = await discoverInstanceKind(kube);
  return { kind, namespace, name, path: instancePath(kind, namespace, name) };
}

/**
 * Reads one instance without a discovery request first: most clusters serve SympoziumInstance, so ask for it
 * directly and discover only when the server says the resource itself is not served (a v0.10 `Agent` cluster).
 * Read-only commands on the hot path (key show) save a round trip this way.
 */
export async function readInstanceByName(kube: KubeClient, name: string, namespace = kube.namespace): Promise<{ ref: InstanceRef; instance: SympoziumInstance }> {
  const guess: InstanceRef = { kind: sympoziumInstanceKind, namespace, name, path: instancePath(sympoziumInstanceKind, namespace, name) };
  try {
    return { ref: guess, instance: await kube.get<SympoziumInstance>(guess.path) };
  } catch (error) {
    if (!isNotFound(error)) throw error;
    if (!isUnservedApi(error)) throw await instanceNotFound(kube, guess);
  }
  const ref = await instanceRef(kube, name, namespace);
  return { ref, instance: await readInstance(kube, ref) };
}

export async function readInstance(kube: KubeClient, ref: InstanceRef): Promise<SympoziumInstance> {
  try {
    return await kube.get<SympoziumInstance>(ref.path);
  } catch (error) {
    if (isNotFound(error)) throw await instanceNotFound(kube, ref);
    throw error;
  }
}

export async function instanceNotFound(kube: KubeClient, ref: InstanceRef): Promise<CliError> {
  const noun = kindNoun(ref.kind);
  const [namespaceExists, elsewhere, here] = await Promise.all([
    kube.getOrUndefined(resourcePath({ group: '', version: 'v1', plural: 'namespaces', name: ref.namespace })).then(Boolean, () => true),
    kube
      .list<SympoziumInstance>(instancePath(ref.kind, undefined), { fieldSelector: `metadata.name=${ref.name}` })
      .then((list) => list.items.map((item) => item.metadata.namespace ?? ''), () => [] as string[]),
    kube
      .list<SympoziumInstance>(instancePath(ref.kind, ref.namespace))
      .then((list) => list.items.map((item) => item.metadata.name), () => [] as string[]),
  ]);
  // A typo is the other common mistake: name the closest instance in the namespace.
  const closest = suggestValue(ref.name, here);
  if (closest && namespaceExists && elsewhere.length === 0) {
    return new CliError(`${noun} "${ref.name}" not found in namespace "${ref.namespace}" of ${kube.describe()}`, {
      hint: `Did you mean "${closest}"? \`sympozium instances list\` lists them.`,
    });
  }
  if (!namespaceExists) {
    return new CliError(`namespace "${ref.namespace}" does not exist, so ${noun} "${ref.name}" cannot be there`, {
      hint: elsewhere.length
        ? `"${ref.name}" exists in namespace ${elsewhere.join(', ')}: pass -n ${elsewhere[0]}.`
        : 'Check -n (or the context\'s namespace); `kubectl get namespaces` lists them, `sympozium instances list -A` lists every instance.',
    });
  }
  return new CliError(`${noun} "${ref.name}" not found in namespace "${ref.namespace}" of ${kube.describe()}`, {
    hint: elsewhere.length
      ? `It exists in namespace ${elsewhere.join(', ')}: pass -n ${elsewhere[0]}.`
      : 'List them with `sympozium instances list -A`, or create one: `sympozium init <name> --apply`.',
  });
}

/** The instance's model, whichever field holds it. */
export function instanceModel(instance: SympoziumInstance): string {
  return instance.spec?.agents?.default?.model ?? '';
}

export function instanceSkills(instance: SympoziumInstance): string[] {
  return (instance.spec?.skills ?? []).map((skill) => skill.skillPackRef ?? skill.configMapRef ?? '?');
}

/** Empty before the first reconcile: shown as Pending, like a run without a phase. */
export function instancePhase(instance: SympoziumInstance): string {
  if (instance.metadata.deletionTimestamp) return 'Terminating';
  return instance.status?.phase || 'Pending';
}
