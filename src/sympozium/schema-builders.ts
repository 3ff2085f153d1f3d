/**
 * The subset of OpenAPI v3 that Kubernetes calls a structural schema, as plain TypeScript objects. The same
 * objects are what `sympozium validate` checks against (validate.ts); the local control plane installs upstream's
 * own CRDs (releases.ts upstreamCrds), not these.
 */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  /** A map: every value has this schema. Never combined with properties (a structural schema rule). */
  additionalProperties?: Schema;
  items?: Schema;
  enum?: (string | number | boolean)[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  nullable?: boolean;
  /** Accept any value below this node: only where the real thing is open-ended. */
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  /** A Kubernetes quantity or port: an integer or a string. */
  'x-kubernetes-int-or-string'?: boolean;
  anyOf?: Schema[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

type Extra = Omit<Schema, 'type' | 'description'>;

export const string = (description: string, extra: Extra = {}): Schema => ({ type: 'string', description, ...extra });
export const integer = (description: string, extra: Extra = {}): Schema => ({ type: 'integer', description, ...extra });
export const boolean = (description: string, extra: Extra = {}): Schema => ({ type: 'boolean', description, ...extra });

export const oneOf = (description: string, values: string[], extra: Extra = {}): Schema => ({
  type: 'string',
  description,
  enum: values,
  ...extra,
});

export function object(description: string, properties: Record<string, Schema>, required: string[] = []): Schema {
  const schema: Schema = { type: 'object', description, properties };
  if (required.length > 0) schema.required = required;
  return schema;
}

export const array = (description: string, items: Schema, extra: Extra = {}): Schema => ({
  type: 'array',
  description,
  items,
  ...extra,
});

export const stringList = (description: string): Schema => array(description, { type: 'string' });

/** A string-to-string map, such as labels, headers or skill params. */
export const stringMap = (description: string): Schema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
});

/** A Kubernetes resource quantity such as 500m, 2 or 1Gi. */
export const quantity: Schema = {
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  pattern: '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
};

/** Container resource requests and limits, as on a Pod. */
export const resources = (description: string): Schema =>
  object(description, {
    requests: { type: 'object', description: 'Minimum resources, e.g. cpu: 100m, memory: 256Mi.', additionalProperties: quantity },
    limits: { type: 'object', description: 'Maximum resources, e.g. cpu: "1", memory: 1Gi.', additionalProperties: quantity },
  });

/** A Kubernetes object name (RFC 1123 subdomain), for references to other objects. */
export const objectName = (description: string): Schema =>
  string(description, { maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' });

/** metav1.Condition, as every controller reports it. */
export const conditions: Schema = array(
  'The latest observations of the object, one per condition type.',
  object(
    'One observation.',
    {
      type: string('The condition, e.g. Ready.'),
      status: oneOf('Whether it holds.', ['True', 'False', 'Unknown']),
      reason: string('A CamelCase reason for the last transition.'),
      message: string('A human-readable explanation.'),
      lastTransitionTime: string('When the status last changed (RFC 3339).', { format: 'date-time' }),
      observedGeneration: integer('The metadata.generation the condition was set for.', { format: 'int64' }),
    },
    ['type', 'status'],
  ),
  { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
);

/** A deep copy, so callers (CRD generation, the cluster) can never mutate the shared schema objects. */
export function cloneSchema(schema: Schema): Schema {
  return structuredClone(schema);
}
