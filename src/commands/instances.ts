import type { Context } from '../context.js';
import { CliError, ExitCode, InterruptedError, usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { isNotFound } from '../kube/errors.js';
import { watchObjects } from '../kube/watch.js';
import { discoverInstanceKind, instancePath, kindNoun, type InstanceKind } from '../sympozium/kinds.js';
import { instanceNotFound, instancePhase, instanceRef, readInstance } from '../sympozium/instances.js';
import { listRuns, runDurationMs, runSource, runTokens } from '../sympozium/runs.js';
import { displayRunPhase, type AgentRun, type SympoziumInstance } from '../sympozium/types.js';
import { findWebEndpointSkill } from '../sympozium/web-endpoint.js';
import { observeEndpoint, type EndpointView } from '../sympozium/web-endpoint-state.js';
import { age, shortDuration } from '../duration.js';
import { startSpinner } from '../ui/spinner.js';
import { renderTable } from '../ui/table.js';
import { colorPhase } from '../ui/colors.js';

/**
 * `sympozium instances list|get|describe|delete`: the instances of whichever kind the cluster serves
 * (SympoziumInstance or Agent), with what a person asks first: is it up, what model, is it served and where
 * is its key, what ran lately. Run counts come from one list of AgentRuns in the same scope.
 */
export { getInstance, listInstances, type ListInstancesOptions } from './instances-list.js';

export async function describeInstance(options: { name: string }, ctx: Context): Promise<void> {
  const kube = await ctx.kube();
  const ref = await instanceRef(kube, options.name);
  const instance = await readInstance(kube, ref);
  const runs = await listRuns(kube, ref.namespace, { instance: options.name }).catch(() => [] as AgentRun[]);
  const recent = runs.slice(0, 10);
  const endpoint = await observeEndpoint(kube, instance, runs);
  const format = ctx.out.format;
  if (format === 'json' || format === 'yaml') {
    const webEndpoint = endpoint && {
      state: endpoint.state,
      serverRun: endpoint.serverRun?.metadata.name ?? null,
      url: endpoint.url ?? null,
      urlSource: endpoint.urlSource ?? null,
      keySecret: endpoint.keySecret ?? null,
    };
    return ctx.out.document({ instance, recentRuns: recent, webEndpoint: webEndpoint ?? null });
  }
  printDescription(ctx, ref.kind, instance, recent, runs.length, endpoint);
}

function printDescription(ctx: Context, kind: InstanceKind, instance: SympoziumInstance, recent: AgentRun[], totalRuns: number, endpoint?: EndpointView): void {
  const now = ctx.now();
  const color = ctx.out.color;
  const lines: string[] = [];
  const field = (label: string, value: string | number | undefined) => lines.push(`${`${label}:`.padEnd(16)}${value === undefined || value === '' ? '-' : value}`);
  const spec = instance.spec ?? ({} as SympoziumInstance['spec']);
  const agent = spec.agents?.default;
  field('Name', instance.metadata.name);
  field('Namespace', instance.metadata.namespace);
  field('Kind', `${kind.kind} (${kind.group}/${kind.version})`);
  field('Phase', instance.status?.phase || instance.metadata.deletionTimestamp ? colorPhase(color, instancePhase(instance)) : 'not reported yet (the controller has not reconciled it)');
  field('Created', instance.metadata.creationTimestamp ? `${instance.metadata.creationTimestamp} (${age(instance.metadata.creationTimestamp, now)} ago)` : undefined);
  if (instance.metadata.deletionTimestamp) field('Deleting', `since ${instance.metadata.deletionTimestamp}; finalizers: ${(instance.metadata.finalizers ?? []).join(', ') || 'none'}`);
  field('Model', [agent?.model, agent?.baseURL ? `base URL ${agent.baseURL}` : '', agent?.thinking ? `thinking ${agent.thinking}` : ''].filter(Boolean).join(', '));
  field('Providers', (spec.authRefs ?? []).map((ref) => `${ref.provider ?? '?'} (Secret ${ref.secret})`).join(', '));
  field(
    'Skills',
    (spec.skills ?? [])
      .map((skill) => {
        const params = Object.entries(skill.params ?? {}).map(([key, value]) => `${key}=${value}`);
        return `${skill.skillPackRef ?? skill.configMapRef}${params.length ? ` (${params.join(', ')})` : ''}`;
      })
      .join(', '),
  );
  field('Policy', spec.policyRef);
  field('Memory', spec.memory ? (spec.memory.enabled ? `enabled${spec.memory.maxSizeKB ? `, ${spec.memory.maxSizeKB} KB` : ''}` : 'disabled') : undefined);
  const channelStatus = new Map((instance.status?.channels ?? []).map((channel) => [channel.type, channel]));
  field(
    'Channels',
    (spec.channels ?? [])
      .map((channel) => {
        const status = channelStatus.get(channel.type);
        return `${channel.type} (${status?.status ?? 'unknown'}${status?.message ? `: ${status.message}` : ''})`;
      })
      .join(', '),
  );
  field('MCP servers', (spec.mcpServers ?? []).map((server) => server.name).join(', '));
  if (endpoint) {
    const skill = findWebEndpointSkill(instance);
    const run = endpoint.serverRun?.metadata.name;
    field('Web endpoint', `enabled${skill ? '' : ' (deprecated spec.webEndpoint)'}; ${run ? `server run ${run}: ${endpoint.state}` : endpoint.state}`);
    if (endpoint.state.startsWith('Failed')) field('', `Sympozium never replaces a Failed server run; after fixing the cause: sympozium enable web-endpoint ${instance.metadata.name} --recreate`);
    field(
      '  URL',
      endpoint.url
        ? `${endpoint.url} (${endpoint.urlSource})${endpoint.urlProblem ? `; not accepted: ${endpoint.urlProblem}` : ''}`
        : `not public (no HTTPRoute with a hostname): reach it with \`sympozium chat ${instance.metadata.name}\` (port-forward)`,
    );
    field('  Key Secret', endpoint.keySecret ? `${endpoint.keySecret} (${endpoint.keySource?.replace(/^Secret \S+ /, '')})` : 'not created yet');
  } else {
    field('Web endpoint', `off (enable: sympozium enable web-endpoint ${instance.metadata.name})`);
  }
  field('Active pods', instance.status?.activeAgentPods ?? 0);
  field('Total runs', totalRuns);
  ctx.out.result(lines.join('\n'));

  const conditions = instance.status?.conditions ?? [];
  ctx.out.result('\nConditions:');
  // Upstream's controllers write no conditions on instances; another controller's would show here.
  if (conditions.length === 0) ctx.out.result('  none (Sympozium does not write instance conditions)');
  else {
    const table = conditions.map((condition) => [condition.type, condition.status, condition.reason ?? '', age(condition.lastTransitionTime, now), condition.message ?? '']);
    ctx.out.result(indent(renderTable(['type', 'status', 'reason', 'age', 'message'], table)));
  }

  ctx.out.result(`\nRecent runs${totalRuns > recent.length ? ` (newest ${recent.length} of ${totalRuns})` : ''}:`);
  if (recent.length === 0) ctx.out.result('  none');
  else {
    const table = recent.map((run) => {
      const duration = runDurationMs(run, now);
      const tokens = runTokens(run);
      return [
        run.metadata.name ?? '',
        colorPhase(color, displayRunPhase(run)),
        runSource(run) || '-',
        duration === undefined ? '-' : shortDuration(duration),
        tokens === undefined ? '-' : String(tokens),
        age(run.metadata.creationTimestamp, now),
      ];
    });
    ctx.out.result(indent(renderTable(['name', 'phase', 'source', 'duration', 'tokens', 'age'], table)));
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

export interface DeleteInstancesOptions {
  names: string[];
  /** Every instance in the namespace; only ever explicit, and confirmed. */
  all: boolean;
  /** The instances matching a label selector; confirmed like --all. */
  selector?: string;
  wait: boolean;
  timeoutMs: number;
}

/**
 * Deletes the named instances, or those --all or -l pick, one DELETE per object by name: the client refuses
 * a DELETE of a whole collection, so a mistake cannot widen beyond what was listed and confirmed here.
 */
export async function deleteInstances(options: DeleteInstancesOptions, ctx: Context): Promise<void> {
  const many = options.all || options.selector !== undefined;
  if (options.all && options.selector !== undefined) throw usageError('--all and --selector pick instances in two ways: use one');
  if (many && options.names.length > 0) throw usageError(`name instances or use ${options.all ? '--all' : '--selector'}, not both`);
  if (!many && options.names.length === 0) {
    throw usageError('name the instance to delete', 'sympozium instances delete <name>; every instance of the namespace only with --all (it asks first).');
  }
  const kube = await ctx.kube();
  const kind = await discoverInstanceKind(kube);
  const namespace = kube.namespace;
  let names = [...new Set(options.names)];
  if (many) {
    const list = await kube.list<SympoziumInstance>(instancePath(kind, namespace), { labelSelector: options.selector });
    names = list.items.map((item) => item.metadata.name);
    if (names.length === 0) {
      ctx.out.info(`No ${kindNoun(kind)}s ${options.selector ? `match ${options.selector} ` : ''}in namespace ${namespace}; nothing deleted.`);
      return;
    }
    await confirmDeletion(ctx, kind, namespace, names);
  }
  const refs = names.map((name) => ({ kind, namespace, name, path: instancePath(kind, namespace, name) }));
  // -o name prints just what was deleted, as `kubectl delete -o name` does: sympoziuminstance.sympozium.ai/demo.
  const report = (name: string, what: string) =>
    ctx.out.result(ctx.out.format === 'name' ? `${kind.kind.toLowerCase()}.${kind.group}/${name}` : `${kind.kind.toLowerCase()}/${name} ${what}`);
  for (const ref of refs) {
    try {
      await kube.delete(ref.path);
    } catch (error) {
      if (isNotFound(error)) throw await instanceNotFound(kube, ref);
      throw error;
    }
    if (!options.wait) report(ref.name, 'deletion requested');
  }
  if (!options.wait) {
    ctx.out.hint(`The controller finishes it; check with \`sympozium instances get ${names[0]}\`.`);
    return;
  }
  for (const ref of refs) {
    await waitUntilGone(kube, kind, namespace, ref.name, options.timeoutMs, ctx);
    report(ref.name, 'deleted');
  }
}

/** --all and -l delete what the user may not have looked at: show it and ask, or require --yes without a terminal. */
async function confirmDeletion(ctx: Context, kind: InstanceKind, namespace: string, names: string[]): Promise<void> {
  const what = `${names.length} ${kindNoun(kind)}${names.length === 1 ? '' : 's'} in namespace ${namespace}: ${names.join(', ')}`;
  if (ctx.globals.yes) {
    ctx.out.info(`Deleting ${what}.`);
    return;
  }
  if (!ctx.interactive) throw usageError(`refusing to delete ${what} without confirmation`, 'Add --yes to confirm, or name the instances.');
  if (!(await ctx.prompt.confirm({ message: `Delete ${what}?`, default: false }))) throw new CliError('nothing deleted', { exitCode: ExitCode.failed });
}

/** Watches the instance until its DELETED event, showing which finalizers still hold it. */
async function waitUntilGone(kube: KubeClient, kind: InstanceKind, namespace: string, name: string, timeoutMs: number, ctx: Context): Promise<void> {
  const spinner = await startSpinner(ctx, `deleting ${kindNoun(kind)} ${name}`);
  const started = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const signal = AbortSignal.any([controller.signal, ctx.signal]);
  let finalizers: string[] = [];
  const describe = () => `deleting ${kindNoun(kind)} ${name}: waiting for finalizers ${finalizers.join(', ')} (${shortDuration(Date.now() - started)})`;
  try {
    for await (const update of watchObjects<SympoziumInstance>(kube, instancePath(kind, namespace), { fieldSelector: `metadata.name=${name}`, signal })) {
      if (update.type === 'LISTED') {
        const current = update.items.find((item) => item.metadata.name === name);
        if (!current) break;
        finalizers = current.metadata.finalizers ?? [];
      } else if (update.type === 'DELETED') break;
      else finalizers = update.object.metadata.finalizers ?? [];
      spinner.update(describe());
    }
  } catch (error) {
    if (!controller.signal.aborted || ctx.signal.aborted) {
      spinner.stop();
      throw error;
    }
  } finally {
    clearTimeout(timer);
  }
  if (ctx.signal.aborted) {
    spinner.stop();
    throw new InterruptedError();
  }
  if (controller.signal.aborted) {
    spinner.fail(`${name} is still terminating after ${shortDuration(timeoutMs)}`);
    throw new CliError(`${kindNoun(kind)} ${name} is still terminating after ${shortDuration(timeoutMs)}; finalizers left: ${finalizers.join(', ') || 'none'}`, {
      hint: 'The Sympozium controller removes them: is it running? Check with `sympozium doctor`. Rerun with a longer --timeout, or --no-wait.',
    });
  }
  spinner.stop();
}
