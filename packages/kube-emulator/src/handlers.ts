/**
 * REST handlers for resource paths: `/api/v1/...` and `/apis/<g>/<v>/...`, with or without a namespace, an
 * object name and a subresource. Maps HTTP verbs and query parameters onto the Cluster operations and shapes the
 * replies (lists, Tables, Status) as a real server does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { present, type Cluster } from './cluster.js';
import type { FieldValidation, WriteOptions } from './writes.js';
import { ApiError, badRequest, methodNotAllowed, notAcceptable, unknownResource } from './errors.js';
import type { FaultRule } from './faults.js';
import { parseJsonBody, readBody, sendJson, warningHeaders } from './http-util.js';
import { decodeKubernetesProtobuf } from './protobuf.js';
import { apiVersionOf, type ResourceType } from './registry.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { buildTable, type IncludeObject } from './tables.js';
import { jsonOf } from './store.js';
import { scaleOf, writeScale } from './scale.js';
import { serveWatch } from './watch.js';

export interface ResourceRoute {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

/** Parses a resource path, or returns undefined when it is not one (discovery and other paths). */
export function parseResourcePath(cluster: Cluster, segments: string[]): ResourceRoute | 'discovery' | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 2) {
    group = '';
    version = segments[1]!;
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    group = segments[1]!;
    version = segments[2]!;
    rest = segments.slice(3);
  } else return undefined;
  if (rest.length === 0) return 'discovery';
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && cluster.registry.get(group, version, rest[2]!)?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length > 3) throw unknownResource();
  const type = cluster.registry.get(group, version, rest[0]!);
  if (!type) throw unknownResource();
  if (!type.namespaced && namespace !== undefined) throw unknownResource();
  return { type, namespace, name: rest[1], subresource: rest[2] };
}

export interface HandlerContext {
  cluster: Cluster;
  bookmarkIntervalMs: number;
  fault: FaultRule | undefined;
}

/** Which Table form the Accept header asks for, if any. */
function tableRequested(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => /as=Table/.test(part) && /g=meta\.k8s\.io/.test(part));
}

function checkAccept(accept: string | undefined): void {
  if (!accept) return;
  const ok = accept.split(',').some((part) => {
    const type = part.split(';')[0]!.trim().toLowerCase();
    return type === 'application/json' || type === '*/*' || type === 'application/*' || type === '' || type === 'application/yaml';
  });
  if (!ok) throw notAcceptable();
}

function includeObject(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function writeOptions(req: IncomingMessage, query: URLSearchParams): WriteOptions {
  const dryRun = query.getAll('dryRun');
  for (const d of dryRun) if (d !== 'All') throw badRequest(`dryRun: Unsupported value: "${d}": supported values: "All"`);
  const fv = query.get('fieldValidation') ?? 'Warn';
  if (fv !== 'Strict' && fv !== 'Warn' && fv !== 'Ignore') {
    throw badRequest(`fieldValidation: Unsupported value: "${fv}": supported values: "Ignore", "Strict", "Warn"`);
  }
  const force = query.get('force');
  return {
    dryRun: dryRun.length > 0,
    fieldManager: query.get('fieldManager') ?? undefined,
    userAgent: String(req.headers['user-agent'] ?? ''),
    fieldValidation: fv as FieldValidation,
    force: force === 'true' || force === '1',
  };
}

function decodeObjectBody(req: IncomingMessage, body: Buffer): any {
  const type = String(req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/vnd.kubernetes.protobuf') {
    try {
      return decodeKubernetesProtobuf(body);
    } catch (err) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - ${(err as Error).message}`, {});
    }
  }
  if (type === 'application/yaml') {
    try {
      return parseYaml(body.toString('utf8'));
    } catch (err) {
      throw badRequest(`error converting YAML to JSON: ${(err as Error).message}`);
    }
  }
  return parseJsonBody(body);
}

function safeDecode(req: IncomingMessage, body: Buffer): any {
  try {
    return decodeObjectBody(req, body);
  } catch {
    return {};
  }
}

function listPredicate(t: ResourceType, query: URLSearchParams): ((o: any) => boolean) | undefined {
  const labels = parseLabelSelector(query.get('labelSelector'));
  const fields = parseFieldSelector(query.get('fieldSelector'), t.fieldSelectors);
  if (labels && fields) return (o) => labels(o.metadata.labels) && fields(o);
  if (labels) return (o) => labels(o.metadata.labels);
  return fields;
}

/** Built-in list items carry no kind/apiVersion (typed lists); custom resource items do. */
function listItem(t: ResourceType, obj: any): any {
  if (t.custom) return present(t, obj);
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

const listItemCache = new WeakMap<object, string>();

/** The JSON of a list item, cached per stored object (stored objects are immutable). */
function listItemJson(t: ResourceType, obj: any): string {
  if (t.custom) {
    const shown = present(t, obj);
    return shown === obj ? jsonOf(obj) : JSON.stringify(shown);
  }
  let json = listItemCache.get(obj);
  if (json === undefined) {
    json = JSON.stringify(listItem(t, obj));
    listItemCache.set(obj, json);
  }
  return json;
}

interface ContinueToken {
  rv: string;
  start: string;
}

function paginate(items: any[], query: URLSearchParams, rv: string): { page: any[]; continueToken?: string; remaining?: number } {
  let start = 0;
  const cont = query.get('continue');
  if (cont) {
    let token: ContinueToken;
    try {
      token = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as ContinueToken;
    } catch {
      throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    }
    start = items.findIndex((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > token.start);
    if (start < 0) start = items.length;
  }
  const limit = Number(query.get('limit') ?? 0);
  if (!(limit > 0) || start + limit >= items.length) return { page: start ? items.slice(start) : items };
  const page = items.slice(start, start + limit);
  const last = page[page.length - 1];
  const token: ContinueToken = { rv, start: `${last.metadata.namespace ?? ''}/${last.metadata.name}` };
  return { page, continueToken: Buffer.from(JSON.stringify(token)).toString('base64url'), remaining: items.length - start - limit };
}

export async function handleResource(req: IncomingMessage, res: ServerResponse, url: URL, route: ResourceRoute, ctx: HandlerContext): Promise<void> {
  const { cluster } = ctx;
  const { type: t, namespace, name, subresource } = route;
  const query = url.searchParams;
  const method = req.method ?? 'GET';
  const accept = req.headers.accept;
  if (subresource === 'scale' && t.scale && name !== undefined) return handleScale(req, res, route, ctx);
  if (subresource !== undefined && !(subresource === 'status' && t.statusSubresource)) {
    if (subresource === 'portforward' && t.kind === 'Pod') throw badRequest('Upgrade request required');
    throw unknownResource();
  }
  const status = subresource === 'status' ? ('status' as const) : undefined;
  if (t.namespaced && namespace === undefined && name !== undefined) throw unknownResource();

  if (method === 'GET') {
    checkAccept(accept);
    if (!t.verbs.includes('get') && !t.verbs.includes('list')) throw methodNotAllowed();
    const table = tableRequested(accept) ? includeObject(query) : undefined;
    if (name !== undefined) {
      const stored = cluster.get(t, namespace, name);
      const obj = present(t, stored);
      if (table) sendJson(res, 200, buildTable(t, [obj], { include: table, resourceVersion: obj.metadata.resourceVersion }));
      else sendJson(res, 200, obj === stored ? jsonOf(stored) : obj);
      return;
    }
    const predicate = listPredicate(t, query);
    const watch = query.get('watch');
    if (watch === 'true' || watch === '1') {
      const timeout = query.get('timeoutSeconds');
      serveWatch(req, res, cluster.store, {
        type: t,
        namespace,
        predicate,
        resourceVersion: query.get('resourceVersion') ?? undefined,
        timeoutSeconds: timeout ? Number(timeout) : undefined,
        allowBookmarks: query.get('allowWatchBookmarks') === 'true',
        sendInitialEvents: query.get('sendInitialEvents') === 'true',
        table,
        bookmarkIntervalMs: ctx.bookmarkIntervalMs,
        fault: ctx.fault,
      });
      return;
    }
    const rv = String(cluster.store.rv);
    const all = cluster.list(t, namespace, predicate);
    const { page, continueToken, remaining } = paginate(all, query, rv);
    if (table) {
      sendJson(res, 200, buildTable(t, page.map((o) => present(t, o)), { include: table, resourceVersion: rv, continueToken }));
      return;
    }
    const metadata: Record<string, unknown> = { resourceVersion: rv };
    if (continueToken) {
      metadata.continue = continueToken;
      metadata.remainingItemCount = remaining;
    }
    // Serialised by hand so a 10k-object list costs one stringify per item and no intermediate copies.
    const head = JSON.stringify({ kind: t.listKind, apiVersion: apiVersionOf(t), metadata });
    const items = page.map((o) => listItemJson(t, o)).join(',');
    sendJson(res, 200, `${head.slice(0, -1)},"items":[${items}]}`);
    return;
  }

  const opts = writeOptions(req, query);
  if (method === 'POST') {
    if (name !== undefined) throw methodNotAllowed();
    if (!t.verbs.includes('create')) throw methodNotAllowed();
    const raw = await readBody(req);
    // `kubectl auth can-i` posts its review as protobuf; the answer does not depend on it (the local admin may
    // do everything), so an undecodable review body is not an error.
    const body = t.kind === 'SelfSubjectAccessReview' || t.kind === 'SelfSubjectReview' ? safeDecode(req, raw) : decodeObjectBody(req, raw);
    const result = cluster.create(t, namespace, body, opts);
    sendJson(res, result.code, present(t, result.object), warningHeaders(result.warnings));
    return;
  }
  if (method === 'PUT') {
    if (name === undefined) throw methodNotAllowed();
    const body = decodeObjectBody(req, await readBody(req));
    const result = cluster.update(t, namespace, name, body, opts, status);
    sendJson(res, result.code, present(t, result.object), warningHeaders(result.warnings));
    return;
  }
  if (method === 'PATCH') {
    if (name === undefined) throw methodNotAllowed();
    const body = (await readBody(req)).toString('utf8');
    const result = cluster.patch(t, namespace, name, String(req.headers['content-type'] ?? ''), body, opts, status);
    sendJson(res, result.code, present(t, result.object), warningHeaders(result.warnings));
    return;
  }
  if (method === 'DELETE') {
    const raw = await readBody(req);
    let options: any = {};
    if (raw.length && raw.toString('utf8').trim()) options = parseJsonBody(raw);
    for (const k of ['propagationPolicy', 'gracePeriodSeconds']) if (query.get(k) !== null) options[k] = query.get(k);
    const policy = options.propagationPolicy;
    if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy)) {
      throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
    }
    if (name === undefined) {
      const list = cluster.deleteCollection(t, namespace, listPredicate(t, query), options, opts);
      list.items = list.items.map((o: any) => listItem(t, o));
      sendJson(res, 200, list);
      return;
    }
    const result = cluster.delete(t, namespace, name, options, opts);
    sendJson(res, result.code, result.object.kind === 'Status' ? result.object : present(t, result.object));
    return;
  }
  throw methodNotAllowed();
}

async function handleScale(req: IncomingMessage, res: ServerResponse, route: ResourceRoute, ctx: HandlerContext): Promise<void> {
  const { type: t, namespace, name } = route;
  const method = req.method ?? 'GET';
  if (method === 'GET') return sendJson(res, 200, scaleOf(t, ctx.cluster.get(t, namespace, name!)));
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const opts = writeOptions(req, query);
  const raw = await readBody(req);
  let result;
  if (method === 'PUT') result = writeScale(ctx.cluster, t, namespace, name!, { put: parseJsonBody(raw) }, opts);
  else if (method === 'PATCH') {
    const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
    result = writeScale(ctx.cluster, t, namespace, name!, { patchType: type, patch: raw.toString('utf8') }, opts);
  } else throw methodNotAllowed();
  sendJson(res, 200, result.object);
}
