/**
 * OpenAPI v3, built from the registry: the root lists one document per group-version with a content hash (kubectl
 * caches by URL, so the hash must change whenever a CRD changes), and each document carries the PATCH operation
 * with the `fieldValidation` parameter (so kubectl validates server-side) plus the schemas `kubectl explain` reads.
 * `/openapi/v2` is only a 5-byte protobuf stub that keeps kubectl's client-side fallbacks quiet.
 */
import { createHash } from 'node:crypto';
import type { Registry, ResourceType } from './registry.js';

/** `swagger: "2.0"` as a protobuf `openapi_v2.Document`. */
export const OPENAPI_V2_STUB = Buffer.from([0x0a, 0x03, 0x32, 0x2e, 0x30]);
export const OPENAPI_V2_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

interface Built {
  generation: number;
  docs: Map<string, { json: string; hash: string }>;
  root: string;
}

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function gvkExtension(t: ResourceType): Record<string, string> {
  return { group: t.group, version: t.version, kind: t.kind };
}

const jsonContent = (ref: string) => ({ 'application/json': { schema: { $ref: ref } } });

function queryParam(name: string, description: string): Record<string, unknown> {
  return { name, in: 'query', description, schema: { type: 'string', uniqueItems: true } };
}

const PATCH_PARAMS = [
  queryParam('dryRun', 'When present, indicates that modifications should not be persisted.'),
  queryParam('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  queryParam('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: Ignore, Warn (default), Strict.'),
  { name: 'force', in: 'query', description: 'Force is going to "force" Apply requests.', schema: { type: 'boolean', uniqueItems: true } },
];
const WRITE_PARAMS = PATCH_PARAMS.slice(0, 3);

function operations(t: ResourceType): Record<string, unknown> {
  const prefix = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  const collection = t.namespaced ? `${prefix}/namespaces/{namespace}/${t.resource}` : `${prefix}/${t.resource}`;
  const item = `${collection}/{name}`;
  const ref = `#/components/schemas/${t.definitionName}`;
  const gvk = gvkExtension(t);
  const pathParams = [
    { name: 'name', in: 'path', required: true, description: `name of the ${t.kind}`, schema: { type: 'string', uniqueItems: true } },
    ...(t.namespaced ? [{ name: 'namespace', in: 'path', required: true, description: 'object name and auth scope', schema: { type: 'string', uniqueItems: true } }] : []),
  ];
  const op = (action: string, extra: Record<string, unknown> = {}) => ({
    operationId: `${action}${t.kind}`,
    responses: { '200': { description: 'OK', content: jsonContent(ref) } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    ...extra,
  });
  const paths: Record<string, unknown> = {};
  if (t.verbs.includes('get')) {
    paths[item] = {
      get: op('get'),
      put: op('put', { parameters: WRITE_PARAMS, requestBody: { content: jsonContent(ref), required: true } }),
      delete: op('delete'),
      patch: op('patch', { parameters: PATCH_PARAMS }),
      parameters: pathParams,
    };
    paths[collection] = {
      get: op('list'),
      post: op('post', { parameters: WRITE_PARAMS, requestBody: { content: jsonContent(ref), required: true } }),
      ...(t.namespaced ? { parameters: [pathParams[1]] } : {}),
    };
  } else {
    paths[collection] = { post: op('post', { parameters: WRITE_PARAMS, requestBody: { content: jsonContent(ref), required: true } }) };
  }
  return paths;
}

function schemaFor(t: ResourceType): Record<string, unknown> {
  const base = t.schema && typeof t.schema === 'object' ? structuredClone(t.schema) : { type: 'object' };
  base.type ??= 'object';
  base.properties ??= {};
  base.properties.apiVersion ??= {
    type: 'string',
    description: 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
  };
  base.properties.kind ??= {
    type: 'string',
    description: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to.',
  };
  base.properties.metadata = {
    description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }],
  };
  base['x-kubernetes-group-version-kind'] = [gvkExtension(t)];
  return base;
}

const OBJECT_META_SCHEMA = {
  description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Name must be unique within a namespace.' },
    generateName: { type: 'string', description: 'GenerateName is an optional prefix, used by the server, to generate a unique name.' },
    namespace: { type: 'string', description: 'Namespace defines the space within which each name must be unique.' },
    labels: { type: 'object', additionalProperties: { type: 'string', default: '' }, description: 'Map of string keys and values that can be used to organize and categorize objects.' },
    annotations: { type: 'object', additionalProperties: { type: 'string', default: '' }, description: 'Annotations is an unstructured key value map stored with a resource.' },
    uid: { type: 'string' },
    resourceVersion: { type: 'string' },
    generation: { type: 'integer', format: 'int64' },
    creationTimestamp: { type: 'string', format: 'date-time' },
    deletionTimestamp: { type: 'string', format: 'date-time' },
    finalizers: { type: 'array', items: { type: 'string', default: '' } },
    ownerReferences: { type: 'array', items: { type: 'object' } },
    managedFields: { type: 'array', items: { type: 'object' } },
  },
};

/** Builds and caches the documents; rebuilt only when the registry changed. */
export class OpenApi {
  private built: Built | undefined;

  constructor(private readonly registry: Registry) {}

  private build(): Built {
    if (this.built && this.built.generation === this.registry.generation) return this.built;
    const docs = new Map<string, { json: string; hash: string }>();
    for (const [group, versions] of this.registry.groups()) {
      for (const version of versions) {
        const types = this.registry.inGroupVersion(group, version).sort((a, b) => a.resource.localeCompare(b.resource));
        const paths: Record<string, unknown> = {};
        const schemas: Record<string, unknown> = { 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': OBJECT_META_SCHEMA };
        for (const t of types) {
          Object.assign(paths, operations(t));
          schemas[t.definitionName] = schemaFor(t);
        }
        const doc = {
          openapi: '3.0.0',
          info: { title: 'Kubernetes', version: 'v1.32.0' },
          paths,
          components: { schemas },
        };
        const json = JSON.stringify(doc);
        // The hash also covers what the document does not show (printer columns), so any CRD change gives
        // clients a new URL and a fresh fetch past their HTTP cache.
        const extra = JSON.stringify(types.map((t) => [t.printerColumns ?? null, t.shortNames, t.categories]));
        const hash = createHash('sha512').update(json).update(extra).digest('hex').toUpperCase();
        docs.set(gvPath(group, version), { json, hash });
      }
    }
    const rootPaths: Record<string, unknown> = {};
    for (const [path, { hash }] of [...docs].sort((a, b) => a[0].localeCompare(b[0]))) {
      rootPaths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
    }
    this.built = { generation: this.registry.generation, docs, root: JSON.stringify({ paths: rootPaths }) };
    return this.built;
  }

  root(): string {
    return this.build().root;
  }

  /** The document for `api/v1` or `apis/<g>/<v>`, or undefined for an unknown group-version. */
  document(path: string): { json: string; hash: string } | undefined {
    return this.build().docs.get(path);
  }
}
