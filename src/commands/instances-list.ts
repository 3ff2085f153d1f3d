import type { Context } from '../context.js';
import { resourcePath, type KubeClient } from '../kube/client.js';
import { discoverInstanceKind, instancePath, kindNoun, type InstanceKind } from '../sympozium/kinds.js';
import { instanceModel, instancePhase, instanceRef, instanceSkills, readInstance } from '../sympozium/instances.js';
import { listRuns } from '../sympozium/runs.js';
import { displayRunPhase, runInstance, type AgentRun, type SympoziumInstance } from '../sympozium/types.js';
import { observeEndpoint, type EndpointView } from '../sympozium/web-endpoint-state.js';
import { age } from '../duration.js';
import { printTemplated } from '../ui/objects.js';
import { columnWidths } from '../ui/table.js';
import { checkWatchFormat, followChanges, printListedForWatch } from './list-watch.js';
import { colorPhase } from '../ui/colors.js';

/**
 * `sympozium instances list|get`: what a person asks first of each instance: is it up, what model, is it
 * served and where is its key, what ran lately. Run counts come from one list of AgentRuns in the same scope.
 */
export interface ListInstancesOptions {
  allNamespaces: boolean;
  selector?: string;
  /** -w: after the list, a line per change until Ctrl-C. */
  watch?: boolean;
  /** false: --no-headers. */
  headers?: boolean;
}

/** `sympoziuminstance.sympozium.ai/demo`, as `kubectl get -o name` prints it. */
function nameOf(kind: InstanceKind, instance: SympoziumInstance): string {
  return `${kind.kind.toLowerCase()}.${kind.group}/${instance.metadata.name}`;
}

interface RunStats {
  total: number;
  last?: AgentRun;
}

function statsByInstance(runs: AgentRun[]): Map<string, RunStats> {
  const stats = new Map<string, RunStats>();
  // Runs arrive newest first, so the first one seen per instance is its latest.
  for (const run of runs) {
    const key = `${run.metadata.namespace ?? ''}/${runInstance(run) ?? ''}`;
    const entry = stats.get(key) ?? { total: 0 };
    entry.total += 1;
    entry.last ??= run;
    stats.set(key, entry);
  }
  return stats;
}

/** One line for the table: "off", or the server run's state and the public URL when there is one. */
function endpointSummary(view: EndpointView | undefined): string {
  if (!view) return 'off';
  return view.url ? `${view.state} ${view.url}` : view.state;
}

function rows(
  ctx: Context,
  instances: SympoziumInstance[],
  stats: Map<string, RunStats>,
  endpoints: Map<SympoziumInstance, EndpointView | undefined>,
  allNamespaces: boolean,
  wide: boolean,
): { headers: string[]; rows: string[][]; widths: number[] } {
  const now = ctx.now();
  const color = ctx.out.color;
  const headers = [
    ...(allNamespaces ? ['namespace'] : []),
    'name',
    'phase',
    'model',
    'skills',
    'web endpoint',
    'active',
    'runs',
    'last run',
    ...(wide ? ['key secret', 'policy', 'channels'] : []),
    'age',
  ];
  const body = instances.map((instance) => {
    const stat = stats.get(`${instance.metadata.namespace ?? ''}/${instance.metadata.name}`);
    // Counted from the runs themselves: upstream never writes status.totalAgentRuns.
    const total = stat?.total ?? 0;
    const endpoint = endpoints.get(instance);
    const last = stat?.last ? `${displayRunPhase(stat.last)} ${age(stat.last.metadata.creationTimestamp, now)} ago` : '-';
    return [
      ...(allNamespaces ? [instance.metadata.namespace ?? ''] : []),
      instance.metadata.name,
      colorPhase(color, instancePhase(instance)),
      instanceModel(instance),
      instanceSkills(instance).join(',') || '-',
      endpointSummary(endpoint),
      String(instance.status?.activeAgentPods ?? 0),
      String(total),
      last,
      ...(wide
        ? [endpoint ? endpoint.keySecret ?? 'not created yet' : '-', instance.spec?.policyRef ?? '-', (instance.spec?.channels ?? []).map((channel) => channel.type).join(',') || '-']
        : []),
      age(instance.metadata.creationTimestamp, now),
    ];
  });
  return { headers, rows: body, widths: columnWidths(headers, body) };
}

/** Each served instance's endpoint, looked up in parallel (the client keeps at most 16 requests in flight). */
async function endpointViews(kube: KubeClient, instances: SympoziumInstance[], runs: AgentRun[]): Promise<Map<SympoziumInstance, EndpointView | undefined>> {
  const views = await Promise.all(instances.map((instance) => observeEndpoint(kube, instance, runs)));
  return new Map(instances.map((instance, index) => [instance, views[index]]));
}

export async function listInstances(options: ListInstancesOptions, ctx: Context): Promise<void> {
  if (options.watch) checkWatchFormat(ctx);
  const kube = await ctx.kube();
  const kind = await discoverInstanceKind(kube);
  const namespace = options.allNamespaces ? undefined : kube.namespace;
  const path = instancePath(kind, namespace);
  const list = await kube.list<SympoziumInstance>(path, { labelSelector: options.selector });
  const instances = [...list.items].sort(
    (a, b) => (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name),
  );
  const resourceVersion = list.metadata.resourceVersion ?? '';
  const document = { apiVersion: 'v1', kind: 'List', items: instances, metadata: { resourceVersion } };
  const format = ctx.out.format;
  // One row's cells, with its runs and endpoint looked up for that instance alone (for the watch's rows).
  const rowOf = async (instance: SympoziumInstance) => {
    const runs = await listRuns(kube, instance.metadata.namespace, { instance: instance.metadata.name }).catch(() => [] as AgentRun[]);
    return rows(ctx, [instance], statsByInstance(runs), await endpointViews(kube, [instance], runs), options.allNamespaces, format === 'wide');
  };
  const follow = (widths: number[]) =>
    followChanges<SympoziumInstance>(ctx, kube, {
      path,
      labelSelector: options.selector,
      resourceVersion,
      widths,
      name: (instance) => nameOf(kind, instance),
      row: async (instance) => (await rowOf(instance)).rows[0]!,
    });

  if (options.watch && printListedForWatch(ctx, instances)) return follow([]);
  if (format === 'json' || format === 'yaml') return ctx.out.document(document);
  if (printTemplated(ctx.out, document, instances, options.headers)) return options.watch ? follow([]) : undefined;
  if (format === 'name') {
    for (const instance of instances) ctx.out.result(nameOf(kind, instance));
    return options.watch ? follow([]) : undefined;
  }
  if (instances.length === 0) {
    // An empty list after a mistyped -n looks like "nothing here yet"; say when the namespace itself is missing.
    const missingNamespace =
      !options.allNamespaces &&
      !(await kube.getOrUndefined(resourcePath({ group: '', version: 'v1', plural: 'namespaces', name: kube.namespace })).then(Boolean, () => true));
    if (missingNamespace) {
      ctx.out.warn(`namespace ${kube.namespace} does not exist.`);
      ctx.out.hint('Check -n (or the context\'s namespace); `kubectl get namespaces` lists them, `sympozium instances list -A` lists every instance.');
      return;
    }
    ctx.out.info(
      options.allNamespaces
        ? `No ${kindNoun(kind)}s in any namespace.`
        : `No ${kindNoun(kind)}s in namespace ${kube.namespace}.`,
    );
    if (options.watch) return follow(rows(ctx, [], new Map(), new Map(), options.allNamespaces, format === 'wide').widths);
    ctx.out.hint(options.allNamespaces ? 'Create one: sympozium init demo --apply' : 'Look everywhere with -A, or create one: sympozium init demo --apply');
    return;
  }
  // Run counts and the latest run come from one list of runs in the same scope; a user who may not list
  // runs still gets the instances.
  const runs = await listRuns(kube, namespace, {}).catch(() => [] as AgentRun[]);
  const endpoints = await endpointViews(kube, instances, runs);
  const table = rows(ctx, instances, statsByInstance(runs), endpoints, options.allNamespaces, format === 'wide');
  ctx.out.table(table.headers, table.rows, { headers: options.headers });
  if (options.watch) return follow(table.widths);
}

export async function getInstance(options: { name: string; headers?: boolean }, ctx: Context): Promise<void> {
  const kube = await ctx.kube();
  const ref = await instanceRef(kube, options.name);
  const instance = await readInstance(kube, ref);
  const format = ctx.out.format;
  if (format === 'json' || format === 'yaml') return ctx.out.document(instance);
  if (format === 'name') return ctx.out.result(nameOf(ref.kind, instance));
  if (printTemplated(ctx.out, instance, [instance], options.headers)) return;
  const runs = await listRuns(kube, ref.namespace, { instance: options.name }).catch(() => [] as AgentRun[]);
  const endpoints = await endpointViews(kube, [instance], runs);
  const table = rows(ctx, [instance], statsByInstance(runs), endpoints, false, format === 'wide');
  ctx.out.table(table.headers, table.rows, { headers: options.headers });
}
