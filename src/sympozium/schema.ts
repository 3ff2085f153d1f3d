import {
  array,
  boolean,
  cloneSchema,
  integer,
  object,
  string,
  stringList,
  stringMap,
  type Schema,
} from './schema-builders.js';
import { instanceSpec, instanceStatus } from './schema-instance.js';
import { policySpec, policyStatus, skillPackSpec, skillPackStatus } from './schema-packs.js';
import { runSpec, runStatus } from './schema-run.js';
import { apiVersion as sympoziumApiVersion, group, version } from './types.js';

export type { Schema } from './schema-builders.js';

/**
 * The kinds sympozium knows a schema for (the local control plane installs upstream's CRDs instead); the
 * core kinds init writes next to them (Secret, ConfigMap, Namespace) get small schemas of their own, so a whole
 * generated file is checked, not only its custom resources.
 */

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  /** 1 shows the column only with -o wide. */
  priority?: number;
}

export interface KindSchema {
  apiVersion: string;
  kind: string;
  /** Present for custom resources: their names, description and printer columns. */
  crd?: { plural: string; singular: string; description: string; printerColumns: PrinterColumn[] };
  /** Whether spec must be present. */
  specRequired: boolean;
  spec?: Schema;
  status?: Schema;
  /** Top-level fields other than apiVersion, kind, metadata, spec and status (core kinds). */
  topLevel?: Record<string, Schema>;
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const sympoziumKinds: KindSchema[] = [
  {
    apiVersion: sympoziumApiVersion,
    kind: 'SympoziumInstance',
    crd: {
      plural: 'sympoziuminstances',
      singular: 'sympoziuminstance',
      description: 'One Sympozium tenant: its channels, agents, skills, policy, credentials, memory and telemetry.',
      printerColumns: [
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        { name: 'Active Agents', type: 'integer', jsonPath: '.status.activeAgentPods' },
        { name: 'Total Runs', type: 'integer', jsonPath: '.status.totalAgentRuns' },
        { name: 'Model', type: 'string', jsonPath: '.spec.agents.default.model', priority: 1 },
        { name: 'Policy', type: 'string', jsonPath: '.spec.policyRef', priority: 1 },
        age,
      ],
    },
    specRequired: true,
    spec: instanceSpec,
    status: instanceStatus,
  },
  {
    apiVersion: sympoziumApiVersion,
    kind: 'AgentRun',
    crd: {
      plural: 'agentruns',
      singular: 'agentrun',
      description: 'One execution of an agent of a SympoziumInstance: a Job (task) or a Deployment (server).',
      printerColumns: [
        { name: 'Instance', type: 'string', jsonPath: '.spec.instanceRef' },
        { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        { name: 'Mode', type: 'string', jsonPath: '.spec.mode', priority: 1 },
        { name: 'Model', type: 'string', jsonPath: '.spec.model.model', priority: 1 },
        { name: 'Pod', type: 'string', jsonPath: '.status.podName', priority: 1 },
        { name: 'Tokens', type: 'integer', jsonPath: '.status.tokenUsage.totalTokens', priority: 1 },
        age,
      ],
    },
    specRequired: true,
    spec: runSpec,
    status: runStatus,
  },
  {
    apiVersion: sympoziumApiVersion,
    kind: 'SkillPack',
    crd: {
      plural: 'skillpacks',
      singular: 'skillpack',
      description: 'Portable agent skills (Markdown, optionally a tool sidecar) mounted into agent pods.',
      printerColumns: [
        { name: 'Skills', type: 'integer', jsonPath: '.status.skillCount' },
        { name: 'Category', type: 'string', jsonPath: '.spec.category', priority: 1 },
        { name: 'ConfigMap', type: 'string', jsonPath: '.status.configMapName' },
        age,
      ],
    },
    specRequired: true,
    spec: skillPackSpec,
    status: skillPackStatus,
  },
  {
    apiVersion: sympoziumApiVersion,
    kind: 'SympoziumPolicy',
    crd: {
      plural: 'sympoziumpolicies',
      singular: 'sympoziumpolicy',
      description: 'Governance for instances: sandboxing, sub-agent limits, tool gating and network isolation.',
      printerColumns: [{ name: 'Bound', type: 'integer', jsonPath: '.status.boundInstances' }, age],
    },
    specRequired: false,
    spec: policySpec,
    status: policyStatus,
  },
];

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

const byKey = new Map([...sympoziumKinds, ...coreKinds].map((entry) => [`${entry.apiVersion}/${entry.kind}`, entry]));

export function kindSchema(apiVersion: string, kind: string): KindSchema | undefined {
  return byKey.get(`${apiVersion}/${kind}`);
}

/** The kinds sympozium knows, for messages such as "did you mean sympozium.ai/v1alpha1?". */
export function knownKinds(): KindSchema[] {
  return [...byKey.values()];
}

export { group, version };

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

export function documentSchema(entry: KindSchema, options: { forCrd?: boolean } = {}): Schema {
  // The validator's schema is built once per kind: per-schema caches (did-you-mean candidates) then hit.
  const cached = options.forCrd ? undefined : validationSchemas.get(entry);
  if (cached) return cached;
  const properties: Record<string, Schema> = {
    apiVersion: string('Versioned schema of this object, e.g. sympozium.ai/v1alpha1.'),
    kind: string('Kind of this object, e.g. SympoziumInstance.'),
    metadata: options.forCrd ? { type: 'object' } : objectMeta,
  };
  if (entry.spec) properties.spec = entry.spec;
  if (entry.status) properties.status = entry.status;
  Object.assign(properties, entry.topLevel ?? {});
  const schema = object(entry.crd?.description ?? `A ${entry.kind}.`, properties, entry.specRequired ? ['spec'] : []);
  if (options.forCrd) return cloneSchema(schema);
  validationSchemas.set(entry, schema);
  return schema;
}
