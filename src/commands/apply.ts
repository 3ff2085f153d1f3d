import type { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { resourcePath } from '../kube/client.js';
import { watchUntil } from '../kube/watch.js';
import {
  applyInTiers,
  describeConflict,
  inParallel,
  displayName,
  type AppliedObject,
  type BodyLoader,
  type FailedObject,
  type PlannedObject,
} from '../sympozium/apply.js';
import { instancePath } from '../sympozium/kinds.js';
import type { SympoziumInstance } from '../sympozium/types.js';
import { shortDuration } from '../duration.js';
import { startSpinner } from '../ui/spinner.js';
import { FileChangedError } from '../sympozium/held-manifests.js';
import { readForApply, type ApplyOptions } from './apply-read.js';

/**
 * `sympozium apply -f ...`: read and validate everything (bundled schemas plus the cluster's CRDs), and send
 * nothing unless every document is valid, every kind is served and every namespace exists, and the server
 * accepts every one in a dry run; then server-side apply tier by tier. Files are read one at a time in each
 * pass and read again for each write pass (refused if changed), so memory follows the largest file.
 */
export async function apply(options: ApplyOptions, ctx: Context): Promise<void> {
  if (options.paths.length === 0) throw usageError('nothing to apply', 'Pass -f <file|directory|->, e.g. sympozium apply -f demo.yaml.');
  const { held, kube, planned, identities } = await readForApply(options, ctx);
  // -o json|yaml print one document of the same shape as a real apply's, -o name the names.
  const machine = ctx.out.format === 'json' || ctx.out.format === 'yaml';
  if (!kube) {
    if (machine) {
      const outcome = 'valid (cluster not checked)';
      ctx.out.document({ items: identities.map((identity) => ({ ...identity, outcome })), dryRun: 'client' });
      return;
    }
    for (const object of identities) {
      const name = `${String(object.kind).toLowerCase()}/${object.name}`;
      ctx.out.result(ctx.out.format === 'name' ? name : `${name} valid (dry run, cluster not checked)`);
    }
    return;
  }

  await checkNamespaces(kube, planned);

  if (options.dryRun === 'client') {
    // Bounded like the writes: thousands of objects must not mean thousands of requests at once.
    const found = await inParallel(planned, 16, async (item) => Boolean(await kube.getOrUndefined(item.path)));
    const results = planned.map((item, index) => ({ item, exists: found[index]!.status === 'fulfilled' ? (found[index] as PromiseFulfilledResult<boolean>).value : false }));
    const failed = found.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    results.sort((a, b) => a.item.tier - b.item.tier);
    if (machine) {
      ctx.out.document({ items: results.map(({ item, exists }) => ({ ...identity(item), outcome: exists ? 'configured' : 'created' })), dryRun: 'client' });
      return;
    }
    for (const { item, exists } of results) ctx.out.result(ctx.out.format === 'name' ? displayName(item) : `${displayName(item)} ${exists ? 'configured' : 'created'} (dry run)`);
    return;
  }

  const dryRun = options.dryRun === 'server';
  if (!dryRun) await rehearse(kube, planned, held.load, options.forceConflicts, ctx);
  const suffix = dryRun ? ' (server dry run)' : '';
  const started = Date.now();
  const outcome = await applyInTiers(kube, planned, {
    force: options.forceConflicts,
    dryRun,
    load: held.load,
    onTier: (applied) => {
      if (machine) return;
      for (const item of applied) {
        if (ctx.out.format === 'name') ctx.out.result(displayName(item.planned));
        else ctx.out.result(`${displayName(item.planned)} ${item.outcome}${suffix}`);
      }
    },
  });
  ctx.out.debug(`applied ${outcome.applied.length} objects in ${Date.now() - started}ms`);
  if (machine) {
    ctx.out.document({
      items: [
        ...outcome.applied.map((item) => ({ ...identity(item.planned), outcome: item.outcome })),
        ...outcome.failed.map((item) => ({ ...identity(item.planned), outcome: 'failed', error: item.error instanceof Error ? item.error.message : String(item.error) })),
        ...outcome.skipped.map((item) => ({ ...identity(item), outcome: 'not applied' })),
      ],
      dryRun: options.dryRun ?? null,
    });
  }
  if (outcome.failed.length > 0) throw failure(outcome.applied, outcome.failed, outcome.skipped, ctx);

  if (options.wait && !dryRun) await waitForInstances(kube, outcome.applied, options.timeoutMs, ctx);
}

function identity(planned: PlannedObject) {
  return { apiVersion: planned.apiVersion, kind: planned.resource.kind, namespace: planned.namespace ?? null, name: planned.name };
}

/** Every namespace an object goes into must exist already or be created by this apply. */
async function checkNamespaces(kube: KubeClient, planned: PlannedObject[]): Promise<void> {
  const created = new Set(planned.filter((item) => item.resource.kind === 'Namespace' && !item.resource.group).map((item) => item.name));
  const needed = [...new Set(planned.map((item) => item.namespace).filter((ns): ns is string => Boolean(ns) && !created.has(ns!)))];
  const missing = (
    await Promise.all(
      needed.map(async (namespace) => ((await kube.getOrUndefined(resourcePath({ group: '', version: 'v1', plural: 'namespaces', name: namespace }))) ? undefined : namespace)),
    )
  ).filter((namespace): namespace is string => Boolean(namespace));
  if (missing.length > 0) {
    const users = planned.filter((item) => item.namespace === missing[0]).map(displayName);
    throw new CliError(`namespace${missing.length === 1 ? '' : 's'} ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist (needed by ${users.slice(0, 3).join(', ')}${users.length > 3 ? ', ...' : ''}): nothing was applied`, {
      hint: `Create it first (kubectl create namespace ${missing[0]}), add a Namespace document to the files, or pass -n <namespace> to use another.`,
    });
  }
}

/**
 * All or nothing: every document is first applied as a server-side dry run with the same field manager, so a
 * rejection only the server can see (an immutable field, an admission webhook, a quota, a conflict) stops
 * the apply before its first real write. Objects in a namespace this apply creates cannot be rehearsed (the
 * namespace does not exist yet); they are left to the real write, and -v says so.
 */
async function rehearse(kube: KubeClient, planned: PlannedObject[], load: BodyLoader, force: boolean, ctx: Context): Promise<void> {
  const creating = new Set(planned.filter((item) => item.resource.kind === 'Namespace' && !item.resource.group).map((item) => item.name));
  const items = planned.filter((item) => !item.namespace || !creating.has(item.namespace));
  if (items.length < planned.length) ctx.out.debug(`server dry run: ${planned.length - items.length} objects go into namespaces this apply creates and are not rehearsed`);
  const failed: FailedObject[] = [];
  // A batch of files at a time, the responses dropped: a file that changed since it was validated stops it here.
  try {
    for await (const batch of load(items)) {
      const results = await inParallel(batch, 16, async ({ planned: item, body }) => void (await kube.apply(item.path, body, { force, dryRun: true })));
      results.forEach((result, index) => {
        if (result.status === 'rejected') failed.push({ planned: batch[index]!.planned, error: result.reason });
      });
    }
  } catch (error) {
    if (error instanceof FileChangedError) throw new CliError(`${error.message}: nothing was applied`, { hint: error.hint });
    throw error;
  }
  if (failed.length === 0) return;
  printFailures(failed, ctx);
  throw new CliError(`the cluster refused ${failed.length} of ${planned.length} document${planned.length === 1 ? '' : 's'} in a server-side dry run: nothing was applied`, {
    hint: failed.some((item) => describeConflict(item.error))
      ? 'Another tool manages those fields. Take them over with --force-conflicts, or change them with that tool instead.'
      : 'Fix them and apply again; nothing on the cluster has changed.',
  });
}

function printFailures(failed: FailedObject[], ctx: Context): void {
  const told = new Set<unknown>();
  for (const { planned, error } of failed) {
    // One error for many objects (a file that changed) is said once.
    if (told.has(error)) continue;
    told.add(error);
    const conflict = describeConflict(error);
    const message = error instanceof Error ? error.message : String(error);
    if (conflict) {
      ctx.out.error(
        `${displayName(planned)}: ${conflict.fields.length ? `field${conflict.fields.length === 1 ? '' : 's'} ${conflict.fields.join(', ')}` : 'some fields'} ${conflict.fields.length === 1 ? 'is' : 'are'} owned by ${conflict.managers.map((manager) => `"${manager}"`).join(', ') || 'another field manager'}, which set a different value`,
      );
    } else ctx.out.error(`${displayName(planned)} (${planned.source}): ${message}`, error instanceof CliError ? error.hint : undefined);
  }
}

/** A write failed after the rehearsal passed (a race): say exactly what changed, and how to take it back. */
function failure(applied: AppliedObject[], failed: FailedObject[], skipped: PlannedObject[], ctx: Context): CliError {
  printFailures(failed, ctx);
  const undo = undoCommand(applied);
  if (undo) ctx.out.hint(`To undo what this apply created: ${undo}`);
  const configured = applied.filter((item) => item.outcome === 'configured');
  if (configured.length > 0) ctx.out.hint(`Changed in place (their earlier versions are not kept): ${configured.map((item) => displayName(item.planned)).join(', ')}`);
  const parts = [
    applied.length ? `applied: ${applied.map((item) => displayName(item.planned)).join(', ')}` : 'nothing was applied',
    `failed: ${failed.map((item) => displayName(item.planned)).join(', ')}`,
    skipped.length ? `not applied: ${skipped.map(displayName).join(', ')}` : '',
  ].filter(Boolean);
  const conflicted = failed.some((item) => describeConflict(item.error));
  return new CliError(`apply stopped: ${parts.join('; ')}`, {
    hint: conflicted
      ? 'Another tool manages those fields. Take them over with --force-conflicts, or change them with that tool instead.'
      : 'Fix the failure and run the same apply again: objects already applied come back unchanged.',
  });
}

/** --wait: until every applied instance has left Pending (Running or Serving), or says Error. */
/**
 * --wait proves what a phase alone cannot: upstream sets Running on the first reconcile whatever is missing
 * (sympoziuminstance_controller.go), so the wait is for the controller to have reconciled the instance (its
 * status.phase), then for what every run of it needs, where upstream looks: the policy in its namespace and
 * the provider Secrets (a missing one fails each run), and the SkillPacks (a missing one is skipped silently,
 * so a warning). Each missing one is named with the command that fixes it.
 */
async function waitForInstances(kube: KubeClient, applied: AppliedObject[], timeoutMs: number, ctx: Context): Promise<void> {
  const instances = applied.filter((item) => item.planned.resource.group === 'sympozium.ai' && (item.planned.resource.kind === 'SympoziumInstance' || item.planned.resource.kind === 'Agent'));
  if (instances.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  const spinner = await startSpinner(ctx, `waiting for the controller to reconcile ${instances.length === 1 ? instances[0]!.planned.name : `${instances.length} instances`}`);
  let results: { name: string; namespace?: string; instance?: SympoziumInstance; timedOut: boolean }[];
  try {
    results = await Promise.all(
      instances.map(async (item) => {
        const kind = { kind: item.planned.resource.kind, plural: item.planned.resource.plural, group: item.planned.resource.group, version: item.planned.resource.version } as Parameters<typeof instancePath>[0];
        const name = item.planned.name;
        const watched = await watchUntil<SympoziumInstance, SympoziumInstance>(
          kube,
          instancePath(kind, item.planned.namespace),
          { fieldSelector: `metadata.name=${name}`, deadline, signal: ctx.signal },
          (objects) => {
            const instance = objects.get(name);
            return instance?.status?.phase ? instance : undefined;
          },
        );
        return { name, instance: watched.result, timedOut: watched.timedOut, namespace: item.planned.namespace };
      }),
    );
  } finally {
    spinner.stop();
  }
  const pending = results.filter((result) => !result.instance);
  if (pending.length > 0) {
    throw new CliError(`the controller has not reconciled ${pending.map((result) => result.name).join(', ')} after ${shortDuration(timeoutMs)} (no status.phase yet)`, {
      hint: `Is the Sympozium controller running? Check with \`sympozium doctor\` and \`sympozium instances describe ${pending[0]!.name}\`.`,
    });
  }
  const { failsEveryRun, referenceNotes } = await import('../sympozium/cluster-checks.js');
  const documents = results.map((result, index) => ({ source: result.name, index, line: 0, column: 0, object: result.instance as unknown as Record<string, unknown> }));
  const missing = await referenceNotes(documents, kube);
  const fatal = missing.filter(failsEveryRun);
  for (const problem of missing.filter((entry) => !failsEveryRun(entry))) ctx.out.warn(`${problem.source}: ${problem.path}: ${problem.message}`);
  for (const result of results) {
    if (!fatal.some((problem) => problem.source === result.name)) ctx.out.info(`${result.name} is ${result.instance!.status!.phase} (reconciled; its policy and provider Secrets exist)`);
  }
  const broken = results.filter((result) => result.instance!.status!.phase === 'Error');
  if (fatal.length > 0) {
    for (const problem of fatal) ctx.out.stderr.write(`${problem.source}: ${problem.path}: ${problem.message}\n`);
    const names = [...new Set(fatal.map((problem) => problem.source))];
    throw new CliError(`${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} reconciled, but every run of ${names.length === 1 ? 'it' : 'them'} would fail: ${fatal.length} missing ${fatal.length === 1 ? 'dependency' : 'dependencies'}`, {
      hint: 'Create what is named above (the instance itself is applied), then check again with `sympozium doctor`.',
    });
  }
  if (broken.length > 0) {
    throw new CliError(`${broken.map((result) => result.name).join(', ')} ${broken.length === 1 ? 'is' : 'are'} in phase Error`, {
      hint: `Upstream sets Error when a channel fails to reconcile. See why: sympozium instances describe ${broken[0]!.name}`,
    });
  }
}

/** `kubectl delete -n ns a/b c/d`, per namespace, for the objects this apply created (not those it changed). */
function undoCommand(applied: AppliedObject[]): string | undefined {
  const byNamespace = new Map<string, string[]>();
  for (const item of applied.filter((entry) => entry.outcome === 'created')) {
    const key = item.planned.namespace ?? '';
    byNamespace.set(key, [...(byNamespace.get(key) ?? []), displayName(item.planned)]);
  }
  if (byNamespace.size === 0) return undefined;
  return [...byNamespace].map(([namespace, names]) => `kubectl delete${namespace ? ` -n ${namespace}` : ''} ${names.join(' ')}`).join(' && ');
}
