import type { Context } from '../context.js';
import { usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { renderCustomColumns } from '../ui/objects.js';
import { renderJsonPath } from '../ui/jsonpath.js';
import { renderRow } from '../ui/table.js';

/**
 * `-w/--watch` of the list commands, in kubectl's manners: after the list, one more line per change, for as
 * long as the user lets it run (Ctrl-C ends it). A table row in the list's columns (kubectl keeps the widths
 * too), a name, the jsonpath template or a custom-columns row per changed object; with -o json one compact
 * `{"type": ..., "object": ...}` per line (NDJSON), the listed objects first as ADDED, as kubectl's
 * `--output-watch-events` does.
 */

type Watched = { metadata: { name: string; namespace?: string } };

interface WatchRows<T extends Watched> {
  path: string;
  labelSelector?: string;
  /** The list's resourceVersion: the watch starts there, so no change is missed or repeated. */
  resourceVersion: string;
  /** Objects the list filtered out client-side are left out of the watch too. */
  matches?: (object: T) => boolean;
  /** The table row of one object; `widths` are the list's columns. */
  row: (object: T) => Promise<string[]>;
  widths: number[];
  name: (object: T) => string;
}

/** Refuses what cannot be a stream before anything is listed: -o yaml is one document. */
export function checkWatchFormat(ctx: Context): void {
  if (ctx.out.format === 'yaml') throw usageError('-o yaml cannot follow changes with --watch', 'Use -o json (one JSON event per line) or leave -o out.');
}

/** Prints the listed objects for the formats that print each object alike in the list and the changes. */
export function printListedForWatch<T extends Watched>(ctx: Context, items: T[]): boolean {
  const out = ctx.out;
  if (out.format === 'json') {
    for (const object of items) out.jsonLine({ type: 'ADDED', object });
    return true;
  }
  if (out.format === 'jsonpath') {
    for (const object of items) out.write(renderJsonPath(out.template ?? '', object));
    return true;
  }
  return false;
}

export async function followChanges<T extends Watched>(ctx: Context, kube: KubeClient, watch: WatchRows<T>): Promise<void> {
  const { watchObjects } = await import('../kube/watch.js');
  const out = ctx.out;
  for await (const update of watchObjects<T>(kube, watch.path, { labelSelector: watch.labelSelector, resourceVersion: watch.resourceVersion, signal: ctx.signal })) {
    if (update.type === 'LISTED') continue;
    if (watch.matches && !watch.matches(update.object)) continue;
    const object = update.object;
    if (out.format === 'json') out.jsonLine({ type: update.type, object });
    else if (out.format === 'name') out.result(watch.name(object));
    else if (out.format === 'jsonpath') out.write(renderJsonPath(out.template ?? '', object));
    else if (out.format === 'custom-columns') out.result(renderCustomColumns(out.template ?? '', [object], false));
    else out.result(renderRow(await watch.row(object), watch.widths));
  }
}
