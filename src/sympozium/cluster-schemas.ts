import type { KubeClient } from '../kube/client.js';
import { groupVersionResources } from '../kube/discovery.js';
import { KubeApiError } from '../kube/errors.js';
import type { ManifestDocument, Problem } from './manifests.js';

/**
 * The schemas a cluster really enforces for the custom kinds in some documents: discovery finds each kind's
 * plural, the CRD gives its openAPIV3Schema. Kinds the cluster does not serve become problems (apply would fail
 * on them); kinds with no readable CRD (built-in or aggregated APIs, or no permission) are left to the bundled
 * schemas. Connection failures are thrown: the caller says the cluster is unreachable.
 */
export async function clusterSchemas(
  documents: ManifestDocument[],
  kube: KubeClient,
): Promise<{ schemas: Map<string, unknown>; problems: Problem[]; notes: string[] }> {
  const schemas = new Map<string, unknown>();
  const problems: Problem[] = [];
  const notes: string[] = [];
  const verdicts = new Map<string, Promise<{ schema?: unknown; notServed?: string; note?: string }>>();

  const verdictFor = async (apiVersion: string, kind: string) => {
    const [group, version] = apiVersion.split('/') as [string, string];
    // The same per-command discovery cache apply uses afterwards, so each group-version is asked for once.
    const served = await groupVersionResources(kube, apiVersion);
    if (!served) {
      const hint = group === 'sympozium.ai' ? ' (are the Sympozium CRDs installed? run `sympozium doctor`)' : '';
      return { notServed: `the cluster does not serve ${apiVersion}${hint}` };
    }
    const resource = served.find((entry) => entry.kind === kind);
    if (!resource) return { notServed: `the cluster serves ${apiVersion} but no kind ${kind}` };
    try {
      const crd = await kube.get<{ spec?: { versions?: { name: string; schema?: { openAPIV3Schema?: unknown } }[] } }>(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${resource.name}.${group}`,
      );
      const schema = crd.spec?.versions?.find((entry) => entry.name === version)?.schema?.openAPIV3Schema;
      return schema ? { schema } : { note: `the cluster's CRD for ${kind} has no schema for ${version}` };
    } catch (error) {
      if (error instanceof KubeApiError && error.code === 404) return {};
      if (error instanceof KubeApiError && error.code === 403) {
        return { note: `not allowed to read the CRD ${resource.name}.${group}; ${kind} was checked against the bundled schema only` };
      }
      throw error;
    }
  };

  for (const document of documents) {
    const { apiVersion, kind } = document.object;
    // Only grouped APIs can be custom resources; core v1 kinds are left to the bundled schemas.
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[^/]+\.[^/]+\/[^/]+$/.test(apiVersion)) continue;
    const key = `${apiVersion}/${kind}`;
    let verdict = verdicts.get(key);
    const first = !verdict;
    if (!verdict) {
      verdict = verdictFor(apiVersion, kind);
      verdicts.set(key, verdict);
    }
    const result = await verdict;
    if (result.schema) schemas.set(key, result.schema);
    if (result.note && first) notes.push(result.note);
    if (result.notServed) {
      const position = document.locate?.position(['apiVersion'], 'value') ?? { line: document.line, column: document.column };
      problems.push({ source: document.source, ...position, path: 'apiVersion', message: result.notServed, severity: 'error' });
    }
  }
  return { schemas, problems, notes };
}
