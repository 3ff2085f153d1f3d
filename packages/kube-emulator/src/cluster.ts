/**
 * The cluster state machine behind the HTTP layer: the registry and the store, plus every write a real API
 * server performs (create, update, patch, apply, delete) with upstream's rules for metadata, status split,
 * generation, optimistic concurrency, finalizers, field validation, no-op writes and dry runs.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { admit, specChanged } from './admission.js';
import { recordUpdate, serverSideApply } from './apply.js';
import { builtinTypes, INITIAL_NAMESPACES, resetStatusOnCreate } from './builtins.js';
import { CRD_STORAGE_KEY, establishedStatus, isEstablished, typesForCrd } from './crd.js';
import { alreadyExists, badRequest, conflict, internalError, invalid, notFound, unsupportedMediaType } from './errors.js';
import { listKeyResolver } from './fields.js';
import { decodeObjectMeta } from './objectmeta.js';
import { processCustomResource } from './schema.js';
import { deepClone, deepEqual, isObject, jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { apiVersionOf, Registry, type ResourceType } from './registry.js';
import { deleteCollection, deleteObject, finishDelete } from './deletion.js';
import { Store } from './store.js';
import { rfc3339, type WriteOptions, type WriteResult } from './writes.js';

const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** The object as a client asked for it: the stored object, relabelled when read through another served version. */
export function present(t: ResourceType, obj: any): any {
  const apiVersion = apiVersionOf(t);
  return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
}

export interface ClusterOptions {
  watchWindow: number;
  crdEstablishDelayMs: number;
  /** How long an Event lives after its last write (kube-apiserver's --event-ttl); default 1 h, as there. */
  eventTtlMs?: number;
}

const defaultEventTtlMs = 60 * 60 * 1000;

export class Cluster {
  readonly registry = new Registry();
  readonly store: Store;
  private readonly timers = new Set<NodeJS.Timeout>();
  now: () => number = Date.now;

  constructor(private readonly options: ClusterOptions) {
    this.store = new Store(options.watchWindow, () => this.now());
    for (const t of builtinTypes()) this.registry.add(t);
    // Events go once their lease runs out, as on a real cluster; without that they piled up for as long as dev
    // ran (15,000 after a 5-minute soak, most of its memory growth).
    const eventTtlMs = options.eventTtlMs ?? defaultEventTtlMs;
    const events = this.registry.get('', 'v1', 'events');
    if (events) this.store.expireAfter(events.storageKey, eventTtlMs);
    const sweep = setInterval(() => this.store.expire(), Math.min(Math.max(eventTtlMs / 4, 10), 60_000));
    sweep.unref();
    this.timers.add(sweep);
  }

  /** Creates the namespaces every cluster has (skipped for those already restored from a state file). */
  bootstrap(): void {
    const ns = this.registry.get('', 'v1', 'namespaces')!;
    for (const name of INITIAL_NAMESPACES) {
      if (this.store.get(ns.storageKey, undefined, name)) continue;
      this.create(ns, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { dryRun: false, fieldManager: undefined, userAgent: 'kube-apiserver', fieldValidation: 'Ignore', force: false });
    }
  }

  /** Re-registers the CRDs found in the store (after a state file restore). */
  registerStoredCrds(): void {
    for (const crd of this.store.list(CRD_STORAGE_KEY)) if (isEstablished(crd)) for (const t of typesForCrd(crd)) this.registry.add(t);
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  // -------------------------------------------------------------------------------------------------------
  // reads

  get(t: ResourceType, namespace: string | undefined, name: string): any {
    const obj = this.store.get(t.storageKey, t.namespaced ? namespace : undefined, name);
    if (!obj) throw notFound(t.group, t.resource, name);
    return obj;
  }

  list(t: ResourceType, namespace: string | undefined, predicate?: (o: any) => boolean): any[] {
    const all = this.store.list(t.storageKey, t.namespaced ? namespace : undefined);
    return predicate ? all.filter(predicate) : all;
  }

  // -------------------------------------------------------------------------------------------------------
  // writes

  private managerFor(opts: WriteOptions): string {
    if (opts.fieldManager) return opts.fieldManager;
    const ua = opts.userAgent || 'unknown';
    const slash = ua.indexOf('/');
    return (slash >= 0 ? ua.slice(0, slash) : ua).slice(0, 128);
  }

  private requireNamespace(t: ResourceType, namespace: string | undefined): void {
    if (!t.namespaced) return;
    if (!namespace) throw badRequest('the server could not find the requested resource');
    const nsType = this.registry.get('', 'v1', 'namespaces')!;
    if (!this.store.get(nsType.storageKey, undefined, namespace)) throw notFound('', 'namespaces', namespace);
  }

  /** Kind/apiVersion, name and namespace checks shared by create and update. */
  private checkIdentity(t: ResourceType, body: any, namespace: string | undefined, urlName?: string): void {
    if (!isObject(body)) throw badRequest('Object \'Kind\' is missing in \'null\'');
    if (!isObject(body.metadata)) body.metadata = {};
    decodeObjectMeta(t, body.metadata);
    if (body.kind !== undefined && body.kind !== t.kind) {
      throw badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: the kind of the provided object (${body.kind}) does not match the expected kind (${t.kind})`);
    }
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(t)) {
      const bodyGroup = String(body.apiVersion).includes('/') ? String(body.apiVersion).split('/')[0] : '';
      if (bodyGroup !== t.group) throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(t)})`);
    }
    body.apiVersion = apiVersionOf(t);
    body.kind = t.kind;
    if (t.namespaced) {
      if (body.metadata.namespace !== undefined && body.metadata.namespace !== '' && body.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      body.metadata.namespace = namespace;
    } else delete body.metadata.namespace;
    if (urlName !== undefined && body.metadata.name !== undefined && body.metadata.name !== urlName) {
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${urlName})`);
    }
    if (urlName !== undefined) body.metadata.name = urlName;
  }

  create(t: ResourceType, namespace: string | undefined, body: any, opts: WriteOptions, applied?: any): WriteResult {
    if (t.kind === 'SelfSubjectAccessReview') return this.accessReview(body);
    if (t.kind === 'SelfSubjectReview') {
      // `kubectl auth whoami`: the bearer token belongs to the emulator's single local admin.
      const userInfo = { username: 'sympozium-local-admin', groups: ['system:masters', 'system:authenticated'] };
      return { object: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: { creationTimestamp: null }, status: { userInfo } }, code: 201, warnings: [] };
    }
    this.checkIdentity(t, body, namespace);
    this.requireNamespace(t, namespace);
    const obj = deepClone(body);
    const meta = obj.metadata;
    if (!meta.name) {
      if (!meta.generateName) {
        throw invalid(t.group, t.kind, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
      }
      do {
        let suffix = '';
        for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
        // names.SimpleNameGenerator: the prefix is cut to 58 characters so that the name fits in 63.
        meta.name = `${String(meta.generateName).slice(0, 58)}${suffix}`;
      } while (this.store.get(t.storageKey, meta.namespace, meta.name));
    }
    if (this.store.get(t.storageKey, t.namespaced ? namespace : undefined, meta.name)) throw alreadyExists(t.group, t.resource, meta.name);
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== '0') {
      // What etcd3's store answers (surfacing as a 500), so a client that re-creates a read object learns it here.
      throw internalError('resourceVersion should not be set on objects to be created');
    }
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink']) delete meta[k];
    const droppedUnknown: string[] = [];
    if (t.statusSubresource) {
      if (t.custom) {
        // kube-apiserver finds (and under Strict refuses) unknown fields while decoding, before PrepareForCreate
        // drops status; so status is looked at for them first.
        if (obj.status !== undefined && isObject(t.schema)) {
          const statusSchema = t.schema.properties?.status;
          const rootOnly = { ...t.schema, required: undefined, properties: statusSchema ? { status: statusSchema } : {} };
          droppedUnknown.push(...processCustomResource({ status: deepClone(obj.status) }, rootOnly).unknownFields);
        }
        delete obj.status;
      } else resetStatusOnCreate(obj);
    }
    const warnings = admit(t, obj, undefined, opts, droppedUnknown);
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(this.now());
    if (t.hasGeneration) meta.generation = 1;
    const ctx = { manager: this.managerFor(opts), apiVersion: apiVersionOf(t), keyFor: listKeyResolver(t), now: rfc3339(this.now()) };
    if (applied) {
      const result = serverSideApply(undefined, applied, ctx, opts.force, t.statusSubresource);
      meta.managedFields = result.object.metadata.managedFields;
    } else {
      delete meta.managedFields;
      recordUpdate(undefined, obj, ctx, t.statusSubresource);
    }
    if (t.kind === 'CustomResourceDefinition') return this.createCrd(t, obj, opts, warnings);
    if (opts.dryRun) return { object: obj, code: 201, warnings };
    this.store.write(t.storageKey, obj);
    return { object: obj, code: 201, warnings };
  }

  private accessReview(body: any): WriteResult {
    const review = isObject(body) ? deepClone(body) : {};
    review.apiVersion = 'authorization.k8s.io/v1';
    review.kind = 'SelfSubjectAccessReview';
    review.metadata = { creationTimestamp: null };
    review.status = { allowed: true, reason: 'the local emulator allows everything for its admin' };
    return { object: review, code: 201, warnings: [] };
  }

  private createCrd(t: ResourceType, obj: any, opts: WriteOptions, warnings: string[]): WriteResult {
    if (opts.dryRun) return { object: obj, code: 201, warnings };
    if (this.options.crdEstablishDelayMs <= 0) {
      obj.status = establishedStatus(obj, obj.metadata.creationTimestamp);
      this.store.write(t.storageKey, obj);
      for (const rt of typesForCrd(obj)) this.registry.add(rt);
      return { object: obj, code: 201, warnings };
    }
    obj.status = { conditions: [], acceptedNames: { kind: '', plural: '' }, storedVersions: [] };
    this.store.write(t.storageKey, obj);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const current = this.store.get(t.storageKey, undefined, obj.metadata.name);
      if (!current || current.metadata.uid !== obj.metadata.uid) return;
      const next = { ...current, status: establishedStatus(current, rfc3339(this.now())) };
      this.store.write(t.storageKey, next);
      for (const rt of typesForCrd(next)) this.registry.add(rt);
    }, this.options.crdEstablishDelayMs);
    this.timers.add(timer);
    return { object: obj, code: 201, warnings };
  }

  /**
   * The common tail of update, patch and apply: status split, metadata carried over, generation, validation,
   * managedFields, no-op detection, finalizer completion, dry run and the store write.
   */
  private commitUpdate(
    t: ResourceType,
    prev: any,
    next: any,
    opts: WriteOptions,
    subresource: 'status' | undefined,
    managed: 'record' | 'keep',
  ): WriteResult {
    const meta = next.metadata;
    const prevMeta = prev.metadata;
    if (subresource === 'status') {
      // Only .status changes through /status; everything else comes from the stored object.
      const statusOnly = { ...deepClone(prev), status: next.status };
      if (managed === 'keep') statusOnly.metadata.managedFields = meta.managedFields;
      next = statusOnly;
    } else if (t.statusSubresource) {
      if (prev.status === undefined) delete next.status;
      else next.status = deepClone(prev.status);
    }
    const m = next.metadata;
    for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (prevMeta[k] === undefined) delete m[k];
      else m[k] = prevMeta[k];
    }
    m.name = prevMeta.name;
    if (t.namespaced) m.namespace = prevMeta.namespace;
    m.resourceVersion = prevMeta.resourceVersion;
    if (t.kind === 'Service' && isObject(next.spec) && next.spec.clusterIP === undefined && prev.spec?.clusterIP !== undefined) {
      // An update that leaves the allocated cluster IP out keeps it (upstream's service strategy).
      next.spec.clusterIP = prev.spec.clusterIP;
      if (prev.spec.clusterIPs !== undefined && next.spec.clusterIPs === undefined) next.spec.clusterIPs = prev.spec.clusterIPs;
    }
    const warnings = admit(t, next, prev, opts);
    if (t.hasGeneration && specChanged(t, prev, next)) m.generation = (prevMeta.generation ?? 0) + 1;
    const ctx = {
      manager: this.managerFor(opts),
      apiVersion: apiVersionOf(t),
      subresource,
      keyFor: listKeyResolver(t),
      now: rfc3339(this.now()),
    };
    if (managed === 'record') recordUpdate(prev, next, ctx, t.statusSubresource);
    if (deepEqual(next, prev)) return { object: prev, code: 200, warnings };
    if (t.kind === 'CustomResourceDefinition' && subresource !== 'status') {
      next.status = prev.status;
    }
    if (opts.dryRun) return { object: next, code: 200, warnings };
    if (m.deletionTimestamp && (!Array.isArray(m.finalizers) || m.finalizers.length === 0)) {
      return { object: finishDelete(this, t, prev), code: 200, warnings };
    }
    this.store.write(t.storageKey, next);
    if (t.kind === 'CustomResourceDefinition' && isEstablished(next)) {
      this.registry.removeCrd(next.metadata.name);
      for (const rt of typesForCrd(next)) this.registry.add(rt);
    }
    return { object: next, code: 200, warnings };
  }

  update(t: ResourceType, namespace: string | undefined, name: string, body: any, opts: WriteOptions, subresource?: 'status'): WriteResult {
    this.checkIdentity(t, body, namespace, name);
    const prev = this.store.get(t.storageKey, t.namespaced ? namespace : undefined, name);
    if (!prev) throw notFound(t.group, t.resource, name);
    const rv = body.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      if (t.custom || t.kind === 'CustomResourceDefinition') {
        throw invalid(t.group, t.kind, name, [{ reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
      }
    } else if (String(rv) !== prev.metadata.resourceVersion) throw conflict(t.group, t.resource, name);
    const next = deepClone(body);
    // A PUT that omits managedFields keeps the stored ones (upstream treats an empty list as "unchanged").
    if (!Array.isArray(next.metadata.managedFields) || next.metadata.managedFields.length === 0) {
      if (prev.metadata.managedFields) next.metadata.managedFields = prev.metadata.managedFields;
    }
    return this.commitUpdate(t, prev, next, opts, subresource, 'record');
  }

  patch(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    rawBody: string,
    opts: WriteOptions,
    subresource?: 'status',
  ): WriteResult {
    const type = contentType.split(';')[0]!.trim().toLowerCase();
    const accepted = t.custom
      ? [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply]
      : [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic, PATCH_TYPES.apply];
    if (!(accepted as string[]).includes(type)) {
      throw unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
    }
    let patchBody: unknown;
    try {
      patchBody = type === PATCH_TYPES.apply ? parseYaml(rawBody) : JSON.parse(rawBody);
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    const prev = this.store.get(t.storageKey, t.namespaced ? namespace : undefined, name);
    if (type === PATCH_TYPES.apply) return this.apply(t, namespace, name, prev, patchBody, opts, subresource);
    if (opts.force) throw badRequest('force: Invalid value: true: may not be specified for non-apply patch');
    if (!prev) throw notFound(t.group, t.resource, name);
    let patched: any;
    if (type === PATCH_TYPES.json) patched = jsonPatch(prev, patchBody);
    else if (type === PATCH_TYPES.merge) {
      if (!isObject(patchBody)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
      patched = mergePatch(prev, patchBody);
    } else patched = strategicMergePatch(prev, patchBody, t.kind);
    if (!isObject(patched)) throw badRequest('the patched object is not a JSON object');
    patched = deepClone(patched);
    if (!isObject(patched.metadata)) patched.metadata = {};
    if (patched.metadata.resourceVersion !== undefined && String(patched.metadata.resourceVersion) !== prev.metadata.resourceVersion) {
      throw conflict(t.group, t.resource, name);
    }
    if (patched.metadata.name !== undefined && patched.metadata.name !== name) {
      throw badRequest(`the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`);
    }
    this.checkIdentity(t, patched, namespace, name);
    return this.commitUpdate(t, prev, patched, opts, subresource, 'record');
  }

  private apply(t: ResourceType, namespace: string | undefined, name: string, prev: any, applied: unknown, opts: WriteOptions, subresource?: 'status'): WriteResult {
    if (!opts.fieldManager) throw badRequest('PATCH requests with apply content type require a fieldManager');
    if (!isObject(applied)) throw badRequest('error decoding YAML: the applied configuration must be an object');
    if (!applied.apiVersion || !applied.kind) throw badRequest('apply patches must set apiVersion and kind');
    const appliedCopy = deepClone(applied);
    this.checkIdentity(t, appliedCopy, namespace, name);
    if (!prev) {
      if (subresource) throw notFound(t.group, t.resource, name);
      const toCreate = deepClone(appliedCopy);
      delete toCreate.metadata.resourceVersion;
      return this.create(t, namespace, toCreate, opts, appliedCopy);
    }
    if (appliedCopy.metadata.resourceVersion !== undefined && String(appliedCopy.metadata.resourceVersion) !== prev.metadata.resourceVersion) {
      throw conflict(t.group, t.resource, name);
    }
    const ctx = { manager: opts.fieldManager, apiVersion: apiVersionOf(t), subresource, keyFor: listKeyResolver(t), now: rfc3339(this.now()) };
    const { object } = serverSideApply(prev, appliedCopy, ctx, opts.force, t.statusSubresource);
    return this.commitUpdate(t, prev, object, opts, subresource, 'keep');
  }

  delete(t: ResourceType, namespace: string | undefined, name: string, options: any, opts: Pick<WriteOptions, 'dryRun'>): WriteResult {
    return deleteObject(this, t, namespace, name, options, opts);
  }

  deleteCollection(t: ResourceType, namespace: string | undefined, predicate: ((o: any) => boolean) | undefined, options: any, opts: Pick<WriteOptions, 'dryRun'>): any {
    return deleteCollection(this, t, namespace, predicate, options, opts);
  }
}
