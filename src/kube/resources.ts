import type http from 'node:http';
import { CliError, ExitCode } from '../errors.js';
import { requirePathSegment } from './names.js';

/**
 * What a request to the API server is and where it may go: the shapes of objects, lists and watch events, and
 * the paths the client builds and checks. Kept apart from client.ts (which sends) so that domain modules can
 * name these without the transport.
 */

/** `metadata` as every Kubernetes object has it; the domain types narrow it (a stored object has a name). */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta & { [key: string]: unknown };
  [key: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface RequestOptions {
  method?: string;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ResponseOf<T> {
  status: number;
  body: T;
  headers: http.IncomingHttpHeaders;
}

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/**
 * The path of a collection (no `name`) or of one object. `undefined` leaves a part out; an empty string is a
 * mistake the caller made (an unset variable), refused here rather than silently widening the path to the
 * collection or to every namespace.
 */
export function resourcePath(ref: ResourceRef): string {
  for (const [part, value] of [['namespace', ref.namespace], ['name', ref.name]] as const) {
    if (value !== undefined) requirePathSegment(value, `the ${part}`);
  }
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  const ns = ref.namespace !== undefined ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  const name = ref.name !== undefined ? `/${encodeURIComponent(ref.name)}` : '';
  const sub = ref.name !== undefined && ref.subresource ? `/${ref.subresource}` : '';
  return `${base}${ns}/${ref.plural}${name}${sub}`;
}

/** Verbs that change what a path names: sent to a collection they would change every object in it. */
const objectOnlyMethods = new Set(['DELETE', 'PATCH', 'PUT']);

/**
 * The second line of defence behind the name checks at the command line: no request leaves with an empty,
 * `.` or `..` path segment (the URL parser would drop or resolve them, so `/sympoziuminstances/.` became the
 * collection), and DELETE, PATCH and PUT only ever address one object. Deleting many objects is done by
 * listing them and deleting each by name, so a mistake can never widen to a whole collection.
 */
export function checkRequestPath(method: string, path: string): void {
  const refuse = (why: string) =>
    new CliError(`refusing to send ${method} ${JSON.stringify(path)}: ${why}`, {
      exitCode: ExitCode.usage,
      hint: 'An object name or namespace is probably empty or "." (an unset shell variable?): pass the name itself.',
    });
  if (!path.startsWith('/')) throw refuse('the path must start with "/"');
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    let decoded = segment;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw refuse(`the segment ${JSON.stringify(segment)} is not valid percent-encoding`);
    }
    if (decoded === '' || decoded === '.' || decoded === '..') throw refuse(`it has an empty, "." or ".." segment`);
  }
  if (objectOnlyMethods.has(method) && isCollectionPath(segments)) throw refuse('it names a whole collection, not one object');
}

/**
 * `/api/v1/[namespaces/<ns>/]<plural>` and `/apis/<group>/<version>/[namespaces/<ns>/]<plural>` name
 * collections; `/api/v1/namespaces` is one too, while `/api/v1/namespaces/<ns>` is a single object.
 */
function isCollectionPath(segments: string[]): boolean {
  let rest = segments[0] === 'api' ? segments.slice(2) : segments[0] === 'apis' ? segments.slice(3) : segments;
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  return rest.length <= 1;
}

export const contentTypes = {
  json: 'application/json',
  mergePatch: 'application/merge-patch+json',
  jsonPatch: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

/** The field manager for every write the CLI makes, so `kubectl get -o yaml --show-managed-fields` names us. */
export const fieldManager = 'sympozium';
