import type { KubeClient } from '../kube/client.js';
import { KubeApiError } from '../kube/errors.js';
import { sympoziumResources } from './kinds.js';
import { clusterSchemas } from './cluster-schemas.js';
import type { ManifestDocument, PathSegment, Problem } from './manifests.js';
import { releaseOf, type Release } from './releases.js';
import { formatPath } from './schema-check.js';
import { group } from './types.js';

/**
 * What a reachable cluster can say about Sympozium documents beyond their schemas: whether the document's release
 * matches the cluster's (v0.10 renamed SympoziumInstance to Agent and AgentRun's instanceRef to agentRef, with no
 * conversion, so a document of the other release is refused or half-understood), and whether the objects an
 * instance names exist where upstream's controller looks for them. None of this is in upstream's CRDs, so
 * validate says it as notes; apply refuses a release mismatch, since nothing it sends would work.
 */

/** The Sympozium generation a cluster serves, from discovery: undefined when Sympozium is not installed. */
interface ClusterGeneration {
  /** The instance kind it serves. */
  kind: 'SympoziumInstance' | 'Agent';
  /** The bundled release of that generation, whose CRDs match the cluster's shape. */
  release: Release;
  label: string;
}

async function clusterGeneration(kube: KubeClient): Promise<ClusterGeneration | undefined> {
  const served = await sympoziumResources(kube);
  // A cluster mid-upgrade could serve both kinds: then nothing is a mismatch.
  if (!served || (served.has('sympoziuminstances') && served.has('agents'))) return undefined;
  if (served.has('agents')) return { kind: 'Agent', release: 'v0.10.46', label: 'Sympozium v0.10 or later (it serves Agent)' };
  if (served.has('sympoziuminstances')) return { kind: 'SympoziumInstance', release: 'v0.5.8', label: 'Sympozium v0.5 (it serves SympoziumInstance)' };
  return undefined;
}

/** Documents written for the other generation than the cluster's, with the command that fixes each. */
function releaseMismatches(documents: ManifestDocument[], cluster: ClusterGeneration, severity: Problem['severity']): Problem[] {
  const problems: Problem[] = [];
  for (const document of documents) {
    const object = document.object;
    if (typeof object.apiVersion !== 'string' || !object.apiVersion.startsWith(`${group}/`)) continue;
    const release = releaseOf(object);
    if (!release || release === cluster.release) continue;
    const agentRun = object.kind === 'AgentRun';
    const path: PathSegment[] = agentRun ? ['spec', release === 'v0.5.8' ? 'instanceRef' : 'agentRef'] : ['kind'];
    const what = agentRun ? `an AgentRun with spec.${path[1]}` : String(object.kind);
    const fix =
      release === 'v0.5.8'
        ? `convert it: sympozium migrate -f ${document.source === '<stdin>' ? '-' : document.source} --out -   (then apply the result)`
        : `this is a v0.10 manifest: write the v0.5 form instead (sympozium init --kind SympoziumInstance), or upgrade Sympozium on the cluster`;
    const position = document.locate?.position(path, agentRun ? 'key' : 'value') ?? { line: document.line, column: document.column };
    problems.push({
      source: document.source,
      ...position,
      path: agentRun ? `spec.${path[1]}` : 'kind',
      message: `${what} is for Sympozium ${release}, but the cluster runs ${cluster.label}; ${fix}`,
      severity,
    });
  }
  return problems;
}

/**
 * Whether a reference note means every run of the instance fails upstream (a missing policy or provider Secret)
 * rather than a skill silently left out (a missing SkillPack).
 */
export function failsEveryRun(note: Problem): boolean {
  return !note.path.includes('skillPackRef');
}

const keyOf = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

/** An object's key for the reference notes' "in the same set of documents" (kind, namespace, name). */
export function batchKey(object: Record<string, unknown>, defaultNamespace: string): string | undefined {
  const { kind, metadata } = object as InstanceLike;
  return typeof kind === 'string' && metadata?.name ? keyOf(kind, metadata.namespace ?? defaultNamespace, metadata.name) : undefined;
}

/**
 * The problems less the reference notes that an object among all the documents answers (see Problem.refersTo),
 * without that field: for commands that check files one at a time and learn the whole set only at the end.
 */
export function answeredNotes(problems: Problem[], inBatch: Set<string>): Problem[] {
  return problems.flatMap(({ refersTo, ...problem }) => (refersTo?.some((key) => inBatch.has(key)) ? [] : [problem]));
}

interface InstanceLike {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: { policyRef?: unknown; authRefs?: unknown; skills?: unknown };
}

/** Where upstream's AgentRun controller looks for built-in SkillPacks after the run's namespace. */
const systemNamespace = 'sympozium-system';

/**
 * Notes for the objects an instance (SympoziumInstance or Agent) names that the cluster does not have where
 * upstream looks: the policy (the run's namespace only; a missing one fails every run, agentrun_controller.go),
 * the provider Secrets of authRefs (the agent has no key), and SkillPacks (the namespace, then sympozium-system;
 * a missing one is skipped silently). Objects in the same set of documents count as present.
 */
export async function referenceNotes(documents: ManifestDocument[], kube: KubeClient): Promise<Problem[]> {
  const inBatch = new Set<string>();
  for (const document of documents) {
    const key = batchKey(document.object, kube.namespace);
    if (key) inBatch.add(key);
  }
  const lookups = new Map<string, Promise<boolean>>();
  const exists = (kind: string, path: string, namespace: string, name: string): Promise<boolean> => {
    if (inBatch.has(keyOf(kind, namespace, name))) return Promise.resolve(true);
    const key = keyOf(kind, namespace, name);
    let found = lookups.get(key);
    if (!found) {
      found = kube.get(path).then(
        () => true,
        (error: unknown) => {
          if (error instanceof KubeApiError && error.code === 404) return false;
          // Forbidden or anything else: nothing is known, so nothing is said.
          return true;
        },
      );
      lookups.set(key, found);
    }
    return found;
  };

  const notes: Problem[] = [];
  for (const document of documents) {
    const object = document.object as InstanceLike;
    if (object.kind !== 'SympoziumInstance' && object.kind !== 'Agent') continue;
    const namespace = object.metadata?.namespace ?? kube.namespace;
    const ns = encodeURIComponent(namespace);
    const note = (path: PathSegment[], message: string, refersTo: string[]) => {
      const position = document.locate?.position(path, 'value') ?? { line: document.line, column: document.column };
      notes.push({ source: document.source, ...position, path: formatPath(path), message, severity: 'note', refersTo });
    };
    const spec = object.spec ?? {};
    const checks: Promise<void>[] = [];
    if (typeof spec.policyRef === 'string' && spec.policyRef) {
      const name = spec.policyRef;
      checks.push(
        exists('SympoziumPolicy', `/apis/${group}/v1alpha1/namespaces/${ns}/sympoziumpolicies/${encodeURIComponent(name)}`, namespace, name).then((found) => {
          if (!found) {
            note(['spec', 'policyRef'], `no SympoziumPolicy "${name}" in namespace ${namespace}: upstream looks only there and fails every run without it; apply a policy of that name there (upstream's presets: permissive, restrictive, network-isolated) or drop policyRef`, [keyOf('SympoziumPolicy', namespace, name)]);
          }
        }),
      );
    }
    (Array.isArray(spec.authRefs) ? spec.authRefs : []).forEach((ref: { secret?: unknown }, index: number) => {
      if (typeof ref?.secret !== 'string' || !ref.secret) return;
      const name = ref.secret;
      checks.push(
        exists('Secret', `/api/v1/namespaces/${ns}/secrets/${encodeURIComponent(name)}`, namespace, name).then((found) => {
          if (!found) note(['spec', 'authRefs', index, 'secret'], `no Secret "${name}" in namespace ${namespace}: the agent would have no provider key; create it first (kubectl create secret generic ${name} -n ${namespace} --from-literal=...)`, [keyOf('Secret', namespace, name)]);
        }),
      );
    });
    (Array.isArray(spec.skills) ? spec.skills : []).forEach((skill: { skillPackRef?: unknown }, index: number) => {
      if (typeof skill?.skillPackRef !== 'string' || !skill.skillPackRef) return;
      const name = skill.skillPackRef.replace(/^skillpack-/, '');
      const path = (where: string) => `/apis/${group}/v1alpha1/namespaces/${encodeURIComponent(where)}/skillpacks/${encodeURIComponent(name)}`;
      checks.push(
        Promise.all([exists('SkillPack', path(namespace), namespace, name), exists('SkillPack', path(systemNamespace), systemNamespace, name)]).then(([here, system]) => {
          if (!here && !system) note(['spec', 'skills', index, 'skillPackRef'], `no SkillPack "${name}" in ${namespace} or ${systemNamespace}: upstream skips it without a word (no skill, no sidecar); check the name with kubectl get skillpacks -A`, [keyOf('SkillPack', namespace, name), keyOf('SkillPack', systemNamespace, name)]);
        }),
      );
    });
    await Promise.all(checks);
  }
  return notes;
}

export interface ClusterCheck {
  /** The cluster's CRD schemas, keyed by apiVersion/kind, for validateDocuments. */
  schemas: Map<string, unknown>;
  problems: Problem[];
  /** Things worth a debug or warning line (a CRD that could not be read). */
  notes: string[];
  generation?: ClusterGeneration;
}

/**
 * Everything a cluster adds to the bundled checks, for `validate --cluster` and `apply`: its CRD schemas (the
 * authority for what it accepts), kinds it does not serve, documents of the other Sympozium generation (an error
 * or a note, as the caller says), and notes on missing references. A document of the other generation is not
 * judged by the cluster's schema as well: one clear message instead of a list of unknown fields.
 */
export async function checkWithCluster(
  documents: ManifestDocument[],
  kube: KubeClient,
  options: { mismatch: Problem['severity'] },
): Promise<ClusterCheck> {
  const generation = documents.some((document) => typeof document.object.apiVersion === 'string' && document.object.apiVersion.startsWith(`${group}/`))
    ? await clusterGeneration(kube)
    : undefined;
  const mismatches = generation ? releaseMismatches(documents, generation, options.mismatch) : [];
  const rest = documents.filter((document) => {
    if (!generation) return true;
    const release = releaseOf(document.object);
    return !release || release === generation.release || !document.object.apiVersion?.toString().startsWith(`${group}/`);
  });
  const [checked, references] = await Promise.all([clusterSchemas(rest, kube), referenceNotes(rest, kube)]);
  return { schemas: checked.schemas, problems: [...mismatches, ...checked.problems, ...references], notes: checked.notes, generation };
}
