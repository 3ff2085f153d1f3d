/**
 * `as=Table` output: column definitions and rows as upstream's printers produce them, with date cells rendered
 * server-side in `HumanDuration` form (kubectl prints cells verbatim).
 */
import type { PrinterColumn, ResourceType } from './registry.js';

interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function age(timestamp: unknown, now: number): string {
  if (typeof timestamp !== 'string' || !timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now - t);
}

/**
 * Evaluates the JSONPath subset printer columns use: `.a.b`, `.a[0]`, `.a[*].b` and `.a[?(@.type=="Ready")].status`.
 * Returns every match.
 */
function evalJsonPath(obj: unknown, path: string): unknown[] {
  let expr = path.trim();
  if (expr.startsWith('{') && expr.endsWith('}')) expr = expr.slice(1, -1);
  if (expr.startsWith('$')) expr = expr.slice(1);
  const tokens: string[] = [];
  const re = /\.([^.[\]]+)|\[([^\]]*)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(expr)) !== null) tokens.push(m[1] !== undefined ? `.${m[1]}` : `[${m[2]}]`);
  let current: unknown[] = [obj];
  for (const token of tokens) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || value === undefined) continue;
      if (token.startsWith('.')) {
        const key = token.slice(1);
        if (typeof value === 'object' && !Array.isArray(value) && key in (value as object)) next.push((value as any)[key]);
        continue;
      }
      const inner = token.slice(1, -1).trim();
      if (!Array.isArray(value)) continue;
      if (inner === '*') next.push(...value);
      else if (/^-?\d+$/.test(inner)) {
        const i = Number(inner);
        const item = value[i < 0 ? value.length + i : i];
        if (item !== undefined) next.push(item);
      } else {
        const f = /^\?\(@\.([\w.-]+)\s*(==|!=)\s*["']?([^"']*)["']?\)$/.exec(inner);
        if (!f) continue;
        for (const item of value) {
          const got = evalJsonPath(item, `.${f[1]}`)[0];
          const eq = String(got) === f[3];
          if (f[2] === '==' ? eq : !eq) next.push(item);
        }
      }
    }
    current = next;
  }
  return current;
}

function column(name: string, type: string, priority = 0, format = '', description = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}

const NAME_COLUMN = column('Name', 'string', 0, 'name', 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names');
const AGE_COLUMN = column('Age', 'string', 0, '', 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata');

type Printer = { columns: ColumnDefinition[]; cells: (obj: any, now: number) => unknown[] };

function selectorString(sel: Record<string, string> | undefined): string {
  if (!sel || Object.keys(sel).length === 0) return '<none>';
  return Object.entries(sel)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function servicePorts(svc: any): string {
  const ports: any[] = svc.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports
    .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`))
    .join(',');
}

function externalIp(svc: any): string {
  const type = svc.spec?.type ?? 'ClusterIP';
  const external: string[] = svc.spec?.externalIPs ?? [];
  if (type === 'ExternalName') return svc.spec?.externalName ?? '<none>';
  if (type === 'LoadBalancer') {
    const ingress: any[] = svc.status?.loadBalancer?.ingress ?? [];
    const ips = [...ingress.map((i) => i.ip ?? i.hostname), ...external];
    return ips.length ? ips.join(',') : '<pending>';
  }
  return external.length ? external.join(',') : '<none>';
}

const BUILTIN_PRINTERS: Record<string, Printer> = {
  Namespace: {
    columns: [NAME_COLUMN, column('Status', 'string', 0, '', 'The status of the namespace'), AGE_COLUMN],
    cells: (o, now) => [o.metadata.name, o.status?.phase ?? 'Active', age(o.metadata.creationTimestamp, now)],
  },
  Secret: {
    columns: [NAME_COLUMN, column('Type', 'string', 0, '', 'The type of the secret'), column('Data', 'string', 0, '', 'The number of data entries'), AGE_COLUMN],
    cells: (o, now) => [o.metadata.name, o.type ?? 'Opaque', Object.keys(o.data ?? {}).length, age(o.metadata.creationTimestamp, now)],
  },
  ConfigMap: {
    columns: [NAME_COLUMN, column('Data', 'string', 0, '', 'Number of data entries'), AGE_COLUMN],
    cells: (o, now) => [o.metadata.name, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o.metadata.creationTimestamp, now)],
  },
  Service: {
    columns: [
      NAME_COLUMN,
      column('Type', 'string', 0, '', 'The type of the service'),
      column('Cluster-IP', 'string', 0, '', 'The cluster IP of the service'),
      column('External-IP', 'string', 0, '', 'The external IPs of the service'),
      column('Port(s)', 'string', 0, '', 'The ports of the service'),
      AGE_COLUMN,
      column('Selector', 'string', 1, '', 'The label selector of the service'),
    ],
    cells: (o, now) => [
      o.metadata.name,
      o.spec?.type ?? 'ClusterIP',
      o.spec?.clusterIP || '<none>',
      externalIp(o),
      servicePorts(o),
      age(o.metadata.creationTimestamp, now),
      selectorString(o.spec?.selector),
    ],
  },
  Deployment: {
    columns: [
      NAME_COLUMN,
      column('Ready', 'string', 0, '', 'Number of the pod with ready state'),
      column('Up-to-date', 'string', 0, '', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      column('Available', 'string', 0, '', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      AGE_COLUMN,
      column('Containers', 'string', 1, '', 'Names of each container in the template.'),
      column('Images', 'string', 1, '', 'Images referenced by each container in the template.'),
      column('Selector', 'string', 1, '', 'Label selector for pods.'),
    ],
    cells: (o, now) => {
      const containers: any[] = o.spec?.template?.spec?.containers ?? [];
      return [
        o.metadata.name,
        `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
        o.status?.updatedReplicas ?? 0,
        o.status?.availableReplicas ?? 0,
        age(o.metadata.creationTimestamp, now),
        containers.map((c) => c.name).join(','),
        containers.map((c) => c.image).join(','),
        selectorString(o.spec?.selector?.matchLabels),
      ];
    },
  },
  Pod: {
    columns: [
      NAME_COLUMN,
      column('Ready', 'string', 0, '', 'The aggregate readiness state of this pod for accepting traffic.'),
      column('Status', 'string', 0, '', 'The aggregate status of the containers in this pod.'),
      column('Restarts', 'string', 0, '', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE_COLUMN,
      column('IP', 'string', 1, '', 'IP address allocated to the pod.'),
      column('Node', 'string', 1, '', 'Name of the node assigned to the pod.'),
      column('Nominated Node', 'string', 1, '', 'Name of the node nominated to the pod.'),
      column('Readiness Gates', 'string', 1, '', 'Readiness gates of the pod.'),
    ],
    cells: (o, now) => {
      const containers: any[] = o.spec?.containers ?? [];
      const statuses: any[] = o.status?.containerStatuses ?? [];
      const ready = statuses.filter((s) => s.ready).length;
      const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
      const reason = o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.reason ?? o.status?.phase ?? 'Pending');
      return [
        o.metadata.name,
        `${ready}/${containers.length}`,
        reason,
        restarts,
        age(o.metadata.creationTimestamp, now),
        o.status?.podIP ?? '<none>',
        o.spec?.nodeName ?? '<none>',
        o.status?.nominatedNodeName ?? '<none>',
        '<none>',
      ];
    },
  },
  ServiceAccount: {
    columns: [NAME_COLUMN, column('Secrets', 'string', 0, '', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.'), AGE_COLUMN],
    cells: (o, now) => [o.metadata.name, (o.secrets ?? []).length, age(o.metadata.creationTimestamp, now)],
  },
  CustomResourceDefinition: {
    columns: [NAME_COLUMN, column('Created At', 'date', 0, '', AGE_COLUMN.description)],
    cells: (o) => [o.metadata.name, o.metadata.creationTimestamp],
  },
  Event: {
    columns: [
      column('Last Seen', 'string', 0, '', 'Time since the event was last seen'),
      column('Type', 'string', 0, '', 'Event type'),
      column('Reason', 'string', 0, '', 'Event reason'),
      column('Object', 'string', 0, '', 'The object this event is about'),
      column('Message', 'string', 0, '', 'Event message'),
    ],
    cells: (o, now) => [
      age(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp, now),
      o.type ?? '',
      o.reason ?? '',
      `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}`,
      o.message ?? '',
    ],
  },
};

function cellValue(values: unknown[], col: PrinterColumn, now: number): unknown {
  if (values.length === 0) return null;
  const value = values.length === 1 ? values[0] : values;
  if (col.type === 'date') return typeof value === 'string' ? age(value, now) : null;
  if (Array.isArray(value) || (typeof value === 'object' && value !== null)) {
    return Array.isArray(value) ? value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',') : JSON.stringify(value);
  }
  return value;
}

function customPrinter(t: ResourceType): Printer {
  const cols = t.printerColumns && t.printerColumns.length ? t.printerColumns : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
  return {
    columns: [
      NAME_COLUMN,
      ...cols.map((c) => column(c.name, c.type, c.priority ?? 0, c.format ?? '', c.description ?? '')),
    ],
    cells: (o, now) => [o.metadata.name, ...cols.map((c) => cellValue(evalJsonPath(o, c.jsonPath), c, now))],
  };
}

function printerFor(t: ResourceType): Printer {
  if (!t.custom && BUILTIN_PRINTERS[t.kind]) return BUILTIN_PRINTERS[t.kind]!;
  if (!t.custom && !t.printerColumns) return { columns: [NAME_COLUMN, AGE_COLUMN], cells: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)] };
  return customPrinter(t);
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(obj: any, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function buildTable(
  t: ResourceType,
  objects: any[],
  opts: { resourceVersion?: string; include: IncludeObject; noHeaders?: boolean; now?: number; continueToken?: string },
): Record<string, unknown> {
  const printer = printerFor(t);
  const now = opts.now ?? Date.now();
  const metadata: Record<string, unknown> = {};
  if (opts.resourceVersion !== undefined) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continueToken) metadata.continue = opts.continueToken;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: opts.noHeaders ? null : printer.columns,
    rows: objects.map((o) => {
      const row: Record<string, unknown> = { cells: printer.cells(o, now) };
      const object = rowObject(o, opts.include);
      if (object !== undefined) row.object = object;
      return row;
    }),
  };
}
