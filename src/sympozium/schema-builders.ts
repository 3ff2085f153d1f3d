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
