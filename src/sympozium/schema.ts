import {
  array,
  boolean,
  integer,
  object,
  string,
  stringList,
  stringMap,
  type Schema,
} from './schema-builders.js';
import { releaseData, releaseNames } from './releases.js';

export type { Schema } from './schema-builders.js';

/**
 * Schemas for the core kinds init writes next to the custom resources (Secret, ConfigMap, Namespace), so a whole
 * generated file is checked offline. Sympozium's own kinds are judged by upstream's CRDs (releases.ts), never by
 * a hand-written copy.
 */

export interface KindSchema {
  apiVersion: string;
  kind: string;
  /** Whether spec must be present. */
  specRequired: boolean;
  spec?: Schema;
  status?: Schema;
  /** Top-level fields other than apiVersion, kind, metadata, spec and status (core kinds). */
  topLevel?: Record<string, Schema>;
}

const coreKinds: KindSchema[] = [
  {
    apiVersion: 'v1',
    kind: 'Secret',
    specRequired: false,
    topLevel: {
      type: string('Secret type, e.g. Opaque.'),
      data: { type: 'object', description: 'Base64-encoded values.', additionalProperties: { type: 'string', format: 'byte' } },
      stringData: stringMap('Plain-text values, stored base64-encoded by the API server.'),
      immutable: boolean('Whether the data can never change.'),
    },
  },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    specRequired: false,
    topLevel: {
      data: stringMap('Plain-text values.'),
      binaryData: { type: 'object', description: 'Base64-encoded values.', additionalProperties: { type: 'string', format: 'byte' } },
      immutable: boolean('Whether the data can never change.'),
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    specRequired: false,
    spec: object('Namespace settings.', { finalizers: stringList('Finalizers of the namespace.') }),
  },
];

const byKey = new Map(coreKinds.map((entry) => [`${entry.apiVersion}/${entry.kind}`, entry]));

export function kindSchema(apiVersion: string, kind: string): KindSchema | undefined {
  return byKey.get(`${apiVersion}/${kind}`);
}

/**
 * Every kind sympozium can name with the apiVersions that serve it, for messages such as "SympoziumInstance is
 * served as sympozium.ai/v1alpha1": the core kinds above and every kind of either bundled Sympozium release.
 */
export function knownKinds(): { apiVersion: string; kind: string }[] {
  const kinds = coreKinds.map((entry) => ({ apiVersion: entry.apiVersion, kind: entry.kind }));
  for (const release of releaseNames) {
    for (const entry of Object.values(releaseData(release).kinds)) {
      for (const served of entry.versions.filter((version) => version.served)) {
        const apiVersion = `${entry.group}/${served.name}`;
        if (!kinds.some((known) => known.kind === entry.kind && known.apiVersion === apiVersion)) kinds.push({ apiVersion, kind: entry.kind });
      }
    }
  }
  return kinds;
}

const dnsSubdomain = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/**
 * ObjectMeta as a client may write it. CRDs may not constrain metadata beyond its type, so this is used only by
 * the validator, never emitted into a CRD; the API server applies the same rules itself.
 */
export const objectMeta: Schema = object('Standard object metadata.', {
  name: string('Name, unique within the namespace (lowercase letters, digits, - and .).', { maxLength: 253, pattern: dnsSubdomain }),
  generateName: string('Prefix for a generated name, used when name is empty.'),
  namespace: string('Namespace of the object.', { maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
  labels: stringMap('Labels, for selection.'),
  annotations: stringMap('Annotations, for tools.'),
  finalizers: stringList('Finalizers that must run before deletion.'),
  ownerReferences: array(
    'Objects this one belongs to.',
    object(
      'One owner.',
      {
        apiVersion: string('Owner apiVersion.'),
        kind: string('Owner kind.'),
        name: string('Owner name.'),
        uid: string('Owner uid.'),
        controller: boolean('Whether the owner is the managing controller.'),
        blockOwnerDeletion: boolean('Whether the owner waits for this object when deleted in the foreground.'),
      },
      ['apiVersion', 'kind', 'name', 'uid'],
    ),
  ),
  uid: string('Set by the server.'),
  resourceVersion: string('Set by the server; for optimistic concurrency.'),
  generation: integer('Set by the server.', { format: 'int64' }),
  creationTimestamp: { type: 'string', description: 'Set by the server.', format: 'date-time', nullable: true },
  deletionTimestamp: string('Set by the server.', { format: 'date-time' }),
  deletionGracePeriodSeconds: integer('Set by the server.', { format: 'int64' }),
  selfLink: string('Deprecated; set by old servers.'),
  managedFields: array('Field ownership for server-side apply.', { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }),
});

/**
 * The whole document schema the validator checks: apiVersion, kind, full metadata, then the kind's own fields.
 * `forCrd` gives what a CRD may carry instead: metadata reduced to its type, as the API server requires.
 */
const validationSchemas = new WeakMap<KindSchema, Schema>();

export function documentSchema(entry: KindSchema): Schema {
  // The validator's schema is built once per kind: per-schema caches (did-you-mean candidates) then hit.
  const cached = validationSchemas.get(entry);
  if (cached) return cached;
  const properties: Record<string, Schema> = {
    apiVersion: string('Versioned schema of this object, e.g. v1.'),
    kind: string('Kind of this object, e.g. Secret.'),
    metadata: objectMeta,
  };
  if (entry.spec) properties.spec = entry.spec;
  if (entry.status) properties.status = entry.status;
  Object.assign(properties, entry.topLevel ?? {});
  const schema = object(`A ${entry.kind}.`, properties, entry.specRequired ? ['spec'] : []);
  validationSchemas.set(entry, schema);
  return schema;
}
