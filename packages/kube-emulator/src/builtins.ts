/**
 * The built-in kinds the CLI and its users touch, with the per-type rules a real server applies on write
 * (defaults, status reset on create). Kept small on purpose: only what kubectl and the CLI observe.
 */
import { makeType, type ResourceType } from './registry.js';

export function builtinTypes(): ResourceType[] {
  return [
    makeType({ group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], statusSubresource: true,
      fieldSelectors: { 'status.phase': (o) => o?.status?.phase } }),
    makeType({ group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true,
      fieldSelectors: { type: (o) => o?.type } }),
    makeType({ group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
    makeType({ group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], statusSubresource: true,
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
    makeType({ group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'], statusSubresource: true,
      deleteReturnsObject: true,
      fieldSelectors: { 'status.phase': (o) => o?.status?.phase, 'spec.nodeName': (o) => o?.spec?.nodeName, 'spec.serviceAccountName': (o) => o?.spec?.serviceAccountName } }),
    makeType({ group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'], deleteReturnsObject: true }),
    makeType({ group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'],
      fieldSelectors: {
        'involvedObject.kind': (o) => o?.involvedObject?.kind,
        'involvedObject.namespace': (o) => o?.involvedObject?.namespace,
        'involvedObject.name': (o) => o?.involvedObject?.name,
        'involvedObject.uid': (o) => o?.involvedObject?.uid,
        'involvedObject.apiVersion': (o) => o?.involvedObject?.apiVersion,
        'involvedObject.resourceVersion': (o) => o?.involvedObject?.resourceVersion,
        'involvedObject.fieldPath': (o) => o?.involvedObject?.fieldPath,
        reason: (o) => o?.reason,
        reportingComponent: (o) => o?.reportingComponent,
        source: (o) => o?.source?.component,
        type: (o) => o?.type,
      } }),
    makeType({ group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'],
      statusSubresource: true, hasGeneration: true,
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.spec.selector' } }),
    makeType({ group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job', namespaced: true, categories: ['all'], statusSubresource: true, hasGeneration: true }),
    makeType({ group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false,
      shortNames: ['crd', 'crds'], categories: ['api-extensions'], statusSubresource: true, hasGeneration: true }),
    makeType({ group: 'gateway.networking.k8s.io', version: 'v1', resource: 'httproutes', kind: 'HTTPRoute', namespaced: true, categories: ['gateway-api'],
      statusSubresource: true, hasGeneration: true, custom: true,
      schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
      printerColumns: [
        { name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ] }),
    makeType({ group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', namespaced: false, verbs: ['create'] }),
    makeType({ group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false, verbs: ['create'] }),
  ];
}

/** Namespaces every cluster starts with. */
export const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

let nextClusterIp = 1;

function allocateClusterIp(): string {
  const n = nextClusterIp++;
  return `10.96.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
}

function defaultPodSpec(spec: any): void {
  if (!isObject(spec)) return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  for (const list of ['containers', 'initContainers']) {
    if (!Array.isArray(spec[list])) continue;
    for (const c of spec[list]) {
      if (!isObject(c)) continue;
      const image = typeof c.image === 'string' ? c.image : '';
      c.imagePullPolicy ??= image.endsWith(':latest') || !/:[^/]+$/.test(image) ? 'Always' : 'IfNotPresent';
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.resources ??= {};
      if (Array.isArray(c.ports)) for (const p of c.ports) if (isObject(p)) p.protocol ??= 'TCP';
    }
  }
}

/**
 * Applies the server defaults of a built-in kind to a freshly decoded object (create, update and patch results
 * alike, as upstream's defaulting runs on every decode). Mutates `obj`.
 */
export function applyBuiltinDefaults(obj: any, isCreate: boolean): void {
  switch (obj.kind) {
    case 'Secret': {
      obj.type ??= 'Opaque';
      if (isObject(obj.stringData)) {
        obj.data = isObject(obj.data) ? obj.data : {};
        for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
        delete obj.stringData;
      }
      break;
    }
    case 'Service': {
      const spec = (obj.spec ??= {});
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      if (isCreate && spec.clusterIP === undefined && spec.type !== 'ExternalName') spec.clusterIP = allocateClusterIp();
      if (spec.clusterIP && spec.clusterIPs === undefined) spec.clusterIPs = [spec.clusterIP];
      if (spec.type !== 'ExternalName') {
        spec.ipFamilies ??= ['IPv4'];
        spec.ipFamilyPolicy ??= 'SingleStack';
        spec.internalTrafficPolicy ??= 'Cluster';
      }
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports) {
          if (!isObject(p)) continue;
          p.protocol ??= 'TCP';
          p.targetPort ??= p.port;
        }
      }
      obj.status ??= { loadBalancer: {} };
      break;
    }
    case 'Deployment': {
      const spec = (obj.spec ??= {});
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: 'RollingUpdate' };
      if (spec.strategy.type === 'RollingUpdate') spec.strategy.rollingUpdate ??= { maxSurge: '25%', maxUnavailable: '25%' };
      if (isObject(spec.template)) {
        spec.template.metadata ??= {};
        defaultPodSpec(spec.template.spec);
      }
      break;
    }
    case 'Pod': {
      defaultPodSpec(obj.spec);
      break;
    }
    case 'Namespace': {
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.status ??= { phase: 'Active' };
      const labels = (obj.metadata.labels ??= {});
      labels['kubernetes.io/metadata.name'] = obj.metadata.name;
      break;
    }
    default:
      break;
  }
}

/** Status reset on create, as each upstream strategy's PrepareForCreate does. */
export function resetStatusOnCreate(obj: any): void {
  switch (obj.kind) {
    case 'Deployment':
      obj.status = {};
      break;
    case 'Pod':
      obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
      break;
    case 'Service':
      obj.status = { loadBalancer: {} };
      break;
    case 'Namespace':
      obj.status = { phase: 'Active' };
      break;
    default:
      break;
  }
}

const OBJECT_META_FIELDS = [
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
];

const TOP_LEVEL_FIELDS: Record<string, string[]> = {
  Namespace: ['spec', 'status'],
  Secret: ['data', 'stringData', 'type', 'immutable'],
  ConfigMap: ['data', 'binaryData', 'immutable'],
  Service: ['spec', 'status'],
  Pod: ['spec', 'status'],
  Deployment: ['spec', 'status'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Event: ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'],
  CustomResourceDefinition: ['spec', 'status'],
};

/**
 * Unknown top-level and metadata fields of a built-in object (as `metadata.foo`, `bogus`), removed from it.
 * Deeper typos in built-in specs are not detected: the emulator carries no full built-in schemas.
 */
export function pruneUnknownBuiltinFields(obj: Record<string, any>): string[] {
  const unknown: string[] = [];
  const known = TOP_LEVEL_FIELDS[obj.kind];
  if (known) {
    for (const key of Object.keys(obj)) {
      if (key === 'apiVersion' || key === 'kind' || key === 'metadata' || known.includes(key)) continue;
      unknown.push(key);
      delete obj[key];
    }
  }
  if (isObject(obj.metadata)) {
    for (const key of Object.keys(obj.metadata)) {
      if (OBJECT_META_FIELDS.includes(key)) continue;
      unknown.push(`metadata.${key}`);
      delete obj.metadata[key];
    }
  }
  return unknown;
}
