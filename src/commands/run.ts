import type { Context } from '../context.js';
import { CliError, ExitCode, InterruptedError, usageError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { readInstanceByName, type InstanceRef } from '../sympozium/instances.js';
import { runPath } from '../sympozium/kinds.js';
import { isFinished, runDurationMs, runTokens } from '../sympozium/runs.js';
import { redactStatus } from '../sympozium/secrets.js';
import { displayRunPhase, labels, type AgentRun, type SympoziumInstance } from '../sympozium/types.js';
import { isWebEndpointSkill } from '../sympozium/web-endpoint.js';
import { shortDuration } from '../duration.js';

/**
 * `sympozium run <instance> [task]`: one task run, created as upstream's own CLI creates it from its TUI's `/run`
 * (cmd/sympozium/main.go, tuiCreateRun, v0.5.8 and v0.10.46), then followed to its end: phases on stderr, the
 * result on stdout, exit 0 Succeeded or 1 Failed.
 */
export interface RunTaskOptions {
  instance: string;
  task?: string;
  file?: string;
  wait: boolean;
  timeoutMs: number;
  /** undefined: cancel on Ctrl-C when a person is at a terminal. */
  cancelOnInterrupt?: boolean;
  /** Stream the agent container's log lines to stderr while following. */
  logs?: boolean;
}

/** Upstream's TUI gives every run ten minutes (metav1.Duration, written as Go prints it). */
const upstreamTimeout = '10m0s';

/** The AgentRun upstream's `/run` would create for this instance and task. */
function taskRun(instance: SympoziumInstance, ref: InstanceRef, task: string, now: Date): AgentRun {
  const spec = instance.spec ?? ({} as SympoziumInstance['spec']);
  const agent = spec.agents?.default;
  const auth = spec.authRefs?.[0];
  let provider = auth?.provider || 'openai';
  // As upstream: a keyless local provider is told by its base URL.
  if (!auth && agent?.baseURL) {
    const url = agent.baseURL;
    provider = /ollama|:11434/.test(url) ? 'ollama' : /lm-studio|:1234/.test(url) ? 'lm-studio' : /llama-server/.test(url) ? 'llama-server' : 'custom';
  }
  const name = `${ref.name}-run-${Math.floor(now.getTime() / 1000)}`;
  return {
    apiVersion: 'sympozium.ai/v1alpha1',
    kind: 'AgentRun',
    metadata: { name, namespace: ref.namespace, labels: { [labels.instance]: ref.name } },
    spec: {
      [ref.kind.runRefField]: ref.name,
      // Upstream's Go struct sends these two as empty strings (the CRD requires the keys, not values).
      agentId: '',
      sessionKey: '',
      task,
      model: {
        provider,
        model: agent?.model ?? '',
        ...(agent?.baseURL ? { baseURL: agent.baseURL } : {}),
        authSecretRef: auth?.secret ?? '',
      },
      // The instance's skills, except the web endpoint's: upstream would copy it too, and a skill that needs a
      // server turns the run into a second server run instead of a task (AgentRun spec.mode).
      ...(spec.skills?.length ? { skills: spec.skills.filter((skill) => !isWebEndpointSkill(skill)) } : {}),
      timeout: upstreamTimeout,
    },
  } as unknown as AgentRun;
}

export async function runTask(options: RunTaskOptions, ctx: Context): Promise<void> {
  const task = await readTask(options, ctx);
  const kube = await ctx.kube();
  const { ref, instance } = await readInstanceByName(kube, options.instance);
  if (!instance.spec?.authRefs?.length && !instance.spec?.agents?.default?.baseURL) {
    throw new CliError(`instance ${options.instance} has no provider key (spec.authRefs is empty) and no base URL`, {
      hint: `Add an authRefs entry naming the provider Secret, e.g. with: sympozium init ${options.instance} --apply`,
      exitCode: ExitCode.usage,
    });
  }
  const created = await create(kube, instance, ref, task, ctx);
  const name = created.metadata.name;
  if (!options.wait) {
    if (ctx.out.format === 'json' || ctx.out.format === 'yaml') ctx.out.document(created);
    else ctx.out.result(`agentrun.sympozium.ai/${name}`);
    ctx.out.hint(`Follow it: sympozium runs tail --run ${name} --until-done`);
    return;
  }
  ctx.out.info(`created run ${name} for ${options.instance}`);
  const run = await follow(kube, ref.namespace, name, options, ctx);
  const phase = displayRunPhase(run);
  if (ctx.out.format === 'json' || ctx.out.format === 'yaml') ctx.out.document(run);
  else if (ctx.out.format === 'name') ctx.out.result(`agentrun.sympozium.ai/${name}`);
  else if (phase === 'Succeeded') {
    const result = run.status?.result ?? '';
    ctx.out.write(result.endsWith('\n') || result === '' ? result : `${result}\n`);
  }
  const duration = runDurationMs(run, ctx.now());
  const tokens = runTokens(run);
  const facts = [phase, duration === undefined ? undefined : shortDuration(duration), tokens === undefined ? undefined : `${tokens} tokens`].filter(Boolean).join(' · ');
  if (phase === 'Failed') {
    throw new CliError(`run ${name} failed${run.status?.error ? `: ${run.status.error}` : ' without an error message'}`, {
      hint: `See it with: sympozium runs get ${name}`,
    });
  }
  ctx.out.info(ctx.out.errColor.dim(`run ${name} · ${facts}`));
}

async function readTask(options: RunTaskOptions, ctx: Context): Promise<string> {
  const given = [options.task !== undefined, options.file !== undefined].filter(Boolean).length;
  if (given > 1) throw usageError('the task is given twice: pass it as the argument or with -f, not both');
  let task = options.task;
  if (options.file !== undefined) {
    const { readFile } = await import('node:fs/promises');
    const { resolve } = await import('node:path');
    try {
      task = options.file === '-' ? await readStream(ctx.stdin) : await readFile(resolve(ctx.cwd, options.file), 'utf8');
    } catch (error) {
      throw usageError(`cannot read -f ${options.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  } else if (task === undefined && !(ctx.stdin as { isTTY?: boolean }).isTTY) {
    task = await readStream(ctx.stdin);
  }
  if (task === undefined || !task.trim()) {
    throw usageError('no task', `Pass it: sympozium run ${options.instance} "what pods are failing?" (or -f task.md, or pipe it in).`);
  }
  return task.trim();
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  stream.setEncoding('utf8');
  for await (const chunk of stream as AsyncIterable<string>) text += chunk;
  return text;
}

/** Created under upstream's name; a run started in the same second gets the next second's name. */
async function create(kube: KubeClient, instance: SympoziumInstance, ref: InstanceRef, task: string, ctx: Context): Promise<AgentRun> {
  for (let offset = 0; ; offset++) {
    const run = taskRun(instance, ref, task, new Date(ctx.now().getTime() + offset * 1000));
    try {
      return await kube.create<AgentRun>(runPath(ref.namespace), run);
    } catch (error) {
      if ((error as { code?: number }).code !== 409 || offset >= 5) throw error;
    }
  }
}

/** Follows the run to its end: each phase on stderr as it comes, bounded by --timeout; Ctrl-C may cancel it. */
async function follow(kube: KubeClient, namespace: string, name: string, options: RunTaskOptions, ctx: Context): Promise<AgentRun> {
  const { watchUntil } = await import('../kube/watch.js');
  let last = '';
  let streaming: Promise<void> | undefined;
  const { RunPodCheck } = await import('../sympozium/run-pod-check.js');
  const podCheck = new RunPodCheck(kube, namespace, name, (problems) =>
    ctx.out.warn(
      `run ${name} is Running but its pod cannot start: ${problems.join('; ')}. It stays Running until its timeout unless that is fixed; \`sympozium doctor ${options.instance}\` says what the instance needs.`,
    ),
  );
  try {
    const watched = await watchUntil<AgentRun, AgentRun>(
      kube,
      runPath(namespace),
      { fieldSelector: `metadata.name=${name}`, deadline: Date.now() + options.timeoutMs, signal: ctx.signal },
      (objects) => {
        const run = objects.get(name);
        if (!run) return undefined;
        const phase = displayRunPhase(run);
        if (phase !== last) {
          ctx.out.info(`run ${name}: ${phase}`);
          last = phase;
        }
        if (phase === 'Running') podCheck.running();
        if (options.logs && !streaming && run.status?.podName) streaming = streamAgentLog(kube, namespace, run.status.podName, ctx);
        return isFinished(run) ? redactStatus(run) : undefined;
      },
    );
    if (watched.result) {
      // The agent's last lines (the result marker) come as its container ends: wait for them, briefly.
      await Promise.race([streaming, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      return watched.result;
    }
    const current = watched.objects.get(name);
    if (!current) throw new CliError(`run ${name} was deleted before it finished`, { hint: 'Someone (or its instance being deleted) removed it.' });
    throw new CliError(`run ${name} is still ${displayRunPhase(current)} after ${shortDuration(options.timeoutMs)}; it goes on`, {
      hint: `Follow it with \`sympozium runs tail --run ${name} --until-done\`, or stop it with \`sympozium runs cancel ${name}\`.`,
    });
  } catch (error) {
    if (error instanceof InterruptedError && (options.cancelOnInterrupt ?? ctx.interactive)) {
      const { cancelRun } = await import('../sympozium/runs.js');
      const detached = kube.detached();
      try {
        const outcome = await cancelRun(detached, namespace, name);
        if (outcome.outcome === 'cancelled') ctx.out.info(`Cancelled run ${name} (deleted, with its Job and pod).`);
      } finally {
        detached.close();
      }
    } else if (error instanceof InterruptedError) {
      ctx.out.info(`Stopped following; run ${name} goes on: \`sympozium runs get ${name}\`, or stop it with \`sympozium runs cancel ${name}\`.`);
    }
    throw error;
  } finally {
    podCheck.stop();
  }
}

/** `run --logs`: the agent container's output on stderr, each line marked, until the container ends. */
async function streamAgentLog(kube: KubeClient, namespace: string, pod: string, ctx: Context): Promise<void> {
  try {
    const response = await kube.textStream(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`, { container: 'agent', follow: true }, ctx.signal);
    let partial = '';
    for await (const chunk of response as AsyncIterable<string>) {
      const text = partial + chunk;
      const cut = text.lastIndexOf('\n');
      partial = text.slice(cut + 1);
      if (cut >= 0) ctx.out.stderr.write(text.slice(0, cut + 1).replace(/^(?=.)/gm, '│ '));
    }
    if (partial) ctx.out.stderr.write(`│ ${partial}\n`);
  } catch (error) {
    if (!ctx.signal.aborted) ctx.out.debug(`run --logs: ${(error as Error).message}`);
  }
}
