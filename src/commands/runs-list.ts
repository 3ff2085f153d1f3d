import type { Context } from '../context.js';
import { runPath } from '../sympozium/kinds.js';
import { runDurationMs, runLabelSelector, runMatches, runSource, runTokens, sortNewestFirst, type RunFilter } from '../sympozium/runs.js';
import { redactStatus } from '../sympozium/secrets.js';
import { displayRunPhase, runInstance, type AgentRun } from '../sympozium/types.js';
import { age, shortDuration } from '../duration.js';
import { printTemplated } from '../ui/objects.js';
import { columnWidths } from '../ui/table.js';
import { checkWatchFormat, followChanges, printListedForWatch } from './list-watch.js';
import { colorPhase } from '../ui/colors.js';
import { oneLine, runName, warnIfNoInstance } from './runs.js';

/** `sympozium runs list`: AgentRuns newest first, in kubectl's output formats, and with -w every change after. */

export interface ListRunsOptions {
  instance?: string;
  source?: string;
  phase?: string;
  allNamespaces: boolean;
  limit?: number;
  /** -w: after the list, a line per change until Ctrl-C. */
  watch?: boolean;
  /** false: --no-headers. */
  headers?: boolean;
}

export async function listRuns(options: ListRunsOptions, ctx: Context): Promise<void> {
  if (options.watch) checkWatchFormat(ctx);
  const kube = await ctx.kube();
  const namespace = options.allNamespaces ? undefined : kube.namespace;
  const instanceExists = options.instance && namespace ? await warnIfNoInstance(kube, options.instance, ctx) : true;
  const filter: RunFilter = { instance: options.instance, source: options.source, phase: options.phase };
  const path = runPath(namespace);
  const list = await kube.list<AgentRun>(path, { labelSelector: runLabelSelector(filter) });
  // Run errors are the server's text, and a provider's error can quote the key it was given.
  let runs = sortNewestFirst(list.items.filter((run) => runMatches(run, filter))).map((run) => redactStatus(run));
  if (options.limit) runs = runs.slice(0, options.limit);
  const format = ctx.out.format;
  const document = { apiVersion: 'v1', kind: 'List', items: runs, metadata: {} };
  const follow = (widths: number[]) =>
    followChanges<AgentRun>(ctx, kube, {
      path,
      labelSelector: runLabelSelector(filter),
      resourceVersion: list.metadata.resourceVersion ?? '',
      matches: (run) => runMatches(run, filter),
      widths,
      name: runName,
      row: async (run) => rowOf(ctx, redactStatus(run), namespace, format === 'wide'),
    });

  if (options.watch && printListedForWatch(ctx, runs)) return follow([]);
  if (format === 'json' || format === 'yaml') return ctx.out.document(document);
  if (printTemplated(ctx.out, document, runs, options.headers)) return options.watch ? follow([]) : undefined;
  if (format === 'name') {
    for (const run of runs) ctx.out.result(runName(run));
    return options.watch ? follow([]) : undefined;
  }
  const headers = [...(namespace ? [] : ['namespace']), 'name', 'instance', 'phase', 'source', 'duration', 'tokens', ...(format === 'wide' ? ['pod', 'error'] : []), 'age'];
  if (runs.length === 0) {
    const what = [options.instance && `of ${options.instance}`, options.source && `from ${options.source}`, options.phase && `in phase ${options.phase}`].filter(Boolean).join(' ');
    ctx.out.info(`No runs${what ? ` ${what}` : ''} in ${namespace ? `namespace ${namespace}` : 'any namespace'}.`);
    if (options.watch) return follow(columnWidths(headers, []));
    if (instanceExists) {
      ctx.out.hint(options.instance ? `Start one: sympozium chat ${options.instance} "hello"` : 'Completed runs are pruned (the newest 50 per instance are kept).');
    }
    return;
  }
  const rows = runs.map((run) => rowOf(ctx, run, namespace, format === 'wide'));
  ctx.out.table(headers, rows, { headers: options.headers });
  if (options.watch) return follow(columnWidths(headers, rows));
}

function rowOf(ctx: Context, run: AgentRun, namespace: string | undefined, wide: boolean): string[] {
  const now = ctx.now();
  const duration = runDurationMs(run, now);
  const tokens = runTokens(run);
  return [
    ...(namespace ? [] : [run.metadata.namespace ?? '']),
    run.metadata.name ?? '',
    runInstance(run) ?? '-',
    colorPhase(ctx.out.color, displayRunPhase(run)),
    runSource(run) || '-',
    duration === undefined ? '-' : shortDuration(duration),
    tokens === undefined ? '-' : String(tokens),
    ...(wide ? [run.status?.podName ?? '-', oneLine(run.status?.error ?? '') || '-'] : []),
    age(run.metadata.creationTimestamp, now),
  ];
}
