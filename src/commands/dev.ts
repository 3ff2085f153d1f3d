import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { openLogForAppend, resolveWriteTarget } from '../files/atomic-write.js';
import type { DevServerInfo } from '../dev/dev-server.js';
import type { Release } from '../sympozium/releases.js';
import { humanDuration } from '../duration.js';
import { mergeContext, removeContext } from '../kube/kubeconfig-edit.js';

/**
 * `sympozium dev up|down|status|env|logs`: the local control plane as a background process (or in this
 * terminal with --foreground), with its kubeconfig, log and optional persisted objects in a per-user state
 * directory. The CLI talks to it like to any cluster, through the kubeconfig it writes.
 */

interface DevUpOptions {
  foreground: boolean;
  port?: number;
  persist: boolean;
  mergeKubeconfig: boolean;
  stateDir?: string;
  /** v0.5.8 or v0.10.46 (the CLI checks); default: what a --persist state holds, else v0.5.8. */
  release?: string;
}

const readyTimeoutMs = 30_000;
const devContextName = 'sympozium-dev';

/** --state-dir, else $SYMPOZIUM_DEV_HOME, else $XDG_STATE_HOME/sympozium/dev, else ~/.local/state/sympozium/dev. */
function devStateDir(ctx: Pick<Context, 'env' | 'cwd'>, flag?: string): string {
  if (flag) return resolve(ctx.cwd, flag);
  if (ctx.env.SYMPOZIUM_DEV_HOME) return resolve(ctx.cwd, ctx.env.SYMPOZIUM_DEV_HOME);
  if (ctx.env.XDG_STATE_HOME) return join(ctx.env.XDG_STATE_HOME, 'sympozium', 'dev');
  return join(ctx.env.HOME ?? homedir(), '.local', 'state', 'sympozium', 'dev');
}

async function devServerModule() {
  return import('../dev/dev-server.js');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A detached server outlives the `up` that started it; once it exits it may linger as a zombie until an
  // init process reaps it, and a zombie is not running.
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)?.[0] !== 'Z';
  } catch {
    return true;
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The running server of this state directory, or undefined (removing a stale record). */
async function runningServer(stateDir: string): Promise<DevServerInfo | undefined> {
  const { readDevServerInfo, devFiles } = await devServerModule();
  const info = readDevServerInfo(stateDir);
  if (!info) return undefined;
  if (alive(info.pid) && (await healthy(info.url))) return info;
  if (!alive(info.pid)) rmSync(devFiles(stateDir).info, { force: true });
  return undefined;
}

/** Where the bundled server entry point is: next to the CLI bundle (dist/), from a chunk or from sources. */
function devServerEntry(): string {
  const candidates = ['../dev-server.js', './dev-server.js', '../../dist/dev-server.js'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new CliError('cannot find dist/dev-server.js', { hint: 'Build the CLI first: npm run build' });
  return found;
}

/**
 * What the local control plane does not do that a real cluster with upstream's release does, so nobody takes a
 * green run here for proof of those (issue 12 "honest about the rest"; kept in step with the README's list).
 */
export const notEmulated = [
  'LLM calls: the offline echo model answers unless the instance sets agents.default.baseURL (an OpenAI-compatible server)',
  'the Envoy Gateway: HTTPRoutes are written but nothing serves them; chat, mcp and proxy reach endpoints by port-forward',
  'nodes, images and containers: pods are records with simulated status; no image is pulled, skill sidecars and their tools do not run',
  'garbage collection: the controller deletes what it owns; other objects with ownerReferences stay',
  'SympoziumSchedules (no scheduled runs), channels (Telegram, Slack, ...: only their Secret is checked) and the NATS event bus',
  'policy enforcement: a missing policy fails runs as upstream, but a policy\'s rules (tools, network, RBAC) are not applied',
  'v0.10 lifecycle hooks (PostRunning, Skipped), delegation (AwaitingDelegate) and Ensembles',
];

function usageLines(info: DevServerInfo): string[] {
  return [
    `Local control plane running at ${info.httpsUrl ?? info.url} (pid ${info.pid})`,
    `  release     Sympozium ${info.release ?? 'v0.5.8'}`,
    `  kubeconfig  ${info.kubeconfig} (context sympozium-dev)`,
    `  log         ${info.logFile}`,
    `  state       ${info.persist ? `${info.stateDir} (objects kept across restarts)` : `${info.stateDir} (objects are lost on down; --persist keeps them)`}`,
    '',
    'Use it:',
    '  eval "$(sympozium dev env)"',
    '  export OPENAI_API_KEY=sk-local         # any value: the provider Secret must exist, the echo model ignores it',
    '  sympozium init demo --api-key-env OPENAI_API_KEY --yes --apply',
    '  sympozium enable web-endpoint demo     # waits until it serves',
    '  sympozium chat demo "hello"            # answered by the offline echo model',
    '  sympozium dev down',
  ];
}

function report(ctx: Context, info: DevServerInfo, state: 'started' | 'already-running'): void {
  if (ctx.out.machine) {
    ctx.out.document({ state, ...info, context: 'sympozium-dev' });
    return;
  }
  if (state === 'already-running') ctx.out.info('The local control plane is already running.');
  ctx.out.result(usageLines(info).join('\n'));
}

export async function devUp(options: DevUpOptions, ctx: Context): Promise<void> {
  const stateDir = devStateDir(ctx, options.stateDir);
  const module = await devServerModule();
  const files = module.devFiles(stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  // Refuse a kubeconfig that cannot be edited (a FIFO, a device, a directory) before anything starts.
  if (options.mergeKubeconfig) resolveWriteTarget(userKubeconfig(ctx, files.kubeconfig));

  const release = options.release as Release | undefined;
  const existing = await runningServer(stateDir);
  if (existing) {
    const running = existing.release ?? 'v0.5.8';
    if (release && release !== running) {
      throw new CliError(`the local control plane is already running Sympozium ${running}, not ${release}`, {
        hint: `Stop it first: sympozium dev down${options.stateDir ? ` --state-dir ${shellQuote(stateDir)}` : ''}`,
      });
    }
    if (options.mergeKubeconfig) await merge(ctx, existing);
    report(ctx, module.readDevServerInfo(stateDir) ?? existing, 'already-running');
    return;
  }

  const effective = release ?? (options.persist ? module.persistedRelease(stateDir) : undefined) ?? 'v0.5.8';
  const conflict = options.persist ? module.releaseConflict(stateDir, effective) : undefined;
  if (conflict) throw new CliError(conflict.message.replace(/\.$/, ''), { hint: conflict.hint });

  if (options.foreground) {
    // serveDev removes server.json on the way out, so remember where the context was merged.
    let mergedTarget: string | undefined;
    ctx.out.info('Starting the local control plane in this terminal (Ctrl-C stops it)...');
    await module.serveDev({
      stateDir,
      port: options.port,
      persist: options.persist,
      release: effective,
      timings: ctx.env.SYMPOZIUM_DEV_TIMINGS === 'fast' ? 'fast' : 'realistic',
      signal: ctx.signal,
      onReady: (info) => {
        void (async () => {
          if (options.mergeKubeconfig) mergedTarget = (await merge(ctx, info)).mergedInto;
          report(ctx, info, 'started');
        })();
      },
    });
    if (options.mergeKubeconfig) await unmerge(ctx, { ...(module.readDevServerInfo(stateDir) ?? ({} as DevServerInfo)), mergedInto: mergedTarget });
    rmSync(files.kubeconfig, { force: true });
    ctx.out.info('Stopped.');
    return;
  }

  const logFd = openLogForAppend(files.log);
  const args = [devServerEntry(), '--state-dir', stateDir, ...(options.port ? ['--port', String(options.port)] : []), ...(options.persist ? ['--persist'] : []), '--release', effective];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', logFd, logFd], env: ctx.env });
  closeSync(logFd);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.unref();

  const deadline = Date.now() + readyTimeoutMs;
  let info: DevServerInfo | undefined;
  while (!info) {
    if (ctx.signal.aborted) {
      child.kill('SIGTERM');
      throw new CliError('interrupted while the local control plane was starting', { exitCode: 130 });
    }
    const candidate = module.readDevServerInfo(stateDir);
    if (candidate && candidate.pid === child.pid && (await healthy(candidate.url))) info = candidate;
    else if (exited !== undefined) {
      if (options.port && tail(files.log, 8).includes('EADDRINUSE')) {
        throw new CliError(`port ${options.port} is already in use`, { hint: 'Pick another with --port, or leave --port out to use a free one.' });
      }
      throw new CliError(`the local control plane exited during start-up (code ${exited})`, {
        hint: `See the end of its log: ${files.log}\n${tail(files.log, 8)}`,
      });
    } else if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new CliError(`the local control plane did not become ready within ${readyTimeoutMs / 1000}s`, { hint: `See its log: ${files.log}` });
    } else await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
  }
  if (options.mergeKubeconfig) info = await merge(ctx, info);
  report(ctx, info, 'started');
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export async function devDown(options: { stateDir?: string }, ctx: Context): Promise<void> {
  const stateDir = devStateDir(ctx, options.stateDir);
  const module = await devServerModule();
  const info = module.readDevServerInfo(stateDir);
  if (!info || !alive(info.pid)) {
    if (info) rmSync(module.devFiles(stateDir).info, { force: true });
    await unmerge(ctx, info);
    if (ctx.out.machine) ctx.out.document({ state: 'not-running', stateDir });
    else ctx.out.info(`The local control plane is not running (state directory ${stateDir}).`);
    return;
  }
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive(info.pid) && Date.now() < deadline) await new Promise((resolvePromise) => setTimeout(resolvePromise, 50));
  if (alive(info.pid)) {
    process.kill(info.pid, 'SIGKILL');
    rmSync(module.devFiles(stateDir).info, { force: true });
  }
  await unmerge(ctx, info);
  rmSync(module.devFiles(stateDir).kubeconfig, { force: true });
  if (ctx.out.machine) ctx.out.document({ state: 'stopped', pid: info.pid, stateDir });
  else ctx.out.success(`Stopped the local control plane (pid ${info.pid}).${info.persist ? ` Its objects are kept in ${stateDir}.` : ''}`);
}

const countedKinds: [string, string][] = [
  ['sympoziuminstances', '/apis/sympozium.ai/v1alpha1/sympoziuminstances'],
  ['agents', '/apis/sympozium.ai/v1alpha1/agents'],
  ['agentruns', '/apis/sympozium.ai/v1alpha1/agentruns'],
  ['skillpacks', '/apis/sympozium.ai/v1alpha1/skillpacks'],
  ['sympoziumpolicies', '/apis/sympozium.ai/v1alpha1/sympoziumpolicies'],
  ['deployments', '/apis/apps/v1/deployments'],
  ['services', '/api/v1/services'],
  ['pods', '/api/v1/pods'],
  ['secrets', '/api/v1/secrets'],
];

export async function devStatus(options: { stateDir?: string }, ctx: Context): Promise<void> {
  const stateDir = devStateDir(ctx, options.stateDir);
  const info = await runningServer(stateDir);
  if (!info) {
    if (ctx.out.machine) ctx.out.document({ running: false, stateDir });
    throw new CliError('the local control plane is not running', { hint: 'Start it with `sympozium dev up`.' });
  }
  // Through the connection layer and the kubeconfig dev wrote, as every other command reaches a cluster.
  const { createKubeClient } = await import('../kube/client.js');
  const kube = createKubeClient({ globals: { kubeconfig: info.kubeconfig, requestTimeoutMs: 5000 }, env: ctx.env, signal: ctx.signal });
  const objects: Record<string, number> = {};
  try {
    for (const [kind, path] of countedKinds) {
      try {
        objects[kind] = (await kube.list(path)).items.length;
      } catch {
        // A kind the server does not serve is simply not counted.
      }
    }
  } finally {
    kube.close();
  }
  const uptimeMs = ctx.now().getTime() - new Date(info.startedAt).getTime();
  if (ctx.out.machine) {
    ctx.out.document({ running: true, ...info, context: 'sympozium-dev', uptimeSeconds: Math.round(uptimeMs / 1000), objects, notEmulated });
    return;
  }
  ctx.out.result(
    [
      `running     yes (pid ${info.pid}, up ${humanDuration(uptimeMs)})`,
      `release     Sympozium ${info.release ?? 'v0.5.8'}`,
      `address     ${info.httpsUrl ?? info.url}`,
      `kubeconfig  ${info.kubeconfig} (context sympozium-dev)${info.mergedInto ? `, also merged into ${info.mergedInto}` : ''}`,
      `log         ${info.logFile}`,
      `state       ${info.stateDir}${info.persist ? ' (persistent)' : ''}`,
      `timings     ${info.timings}`,
      `objects     ${Object.entries(objects).map(([kind, count]) => `${kind}=${count}`).join(' ')}`,
      'not emulated (a real cluster does these; dev does not):',
      ...notEmulated.map((line) => `  - ${line}`),
    ].join('\n'),
  );
}

export async function devEnv(options: { stateDir?: string }, ctx: Context): Promise<void> {
  const stateDir = devStateDir(ctx, options.stateDir);
  const { devFiles } = await devServerModule();
  const kubeconfig = devFiles(stateDir).kubeconfig;
  if (!existsSync(kubeconfig)) {
    throw new CliError(`no kubeconfig in ${stateDir}: the local control plane is not running`, { hint: 'Start it with `sympozium dev up`.' });
  }
  if (!(await runningServer(stateDir))) ctx.out.warn('the local control plane is not running; start it with `sympozium dev up`');
  ctx.out.result(`export KUBECONFIG=${shellQuote(kubeconfig)}`);
}

export async function devLogs(options: { stateDir?: string }, ctx: Context): Promise<void> {
  const stateDir = devStateDir(ctx, options.stateDir);
  const { devFiles } = await devServerModule();
  const log = devFiles(stateDir).log;
  if (!existsSync(log)) throw new CliError(`no log in ${stateDir} yet`, { hint: 'Start the local control plane with `sympozium dev up`.' });
  ctx.out.write(readFileSync(log, 'utf8'));
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The user's kubeconfig: --kubeconfig, else the first KUBECONFIG entry that is not ours, else ~/.kube/config. */
function userKubeconfig(ctx: Context, own: string): string {
  if (ctx.globals.kubeconfig) return resolve(ctx.cwd, ctx.globals.kubeconfig);
  const fromEnv = (ctx.env.KUBECONFIG ?? '').split(delimiter).filter(Boolean).map((path) => resolve(ctx.cwd, path)).filter((path) => path !== own);
  return fromEnv[0] ?? join(ctx.env.HOME ?? homedir(), '.kube', 'config');
}

async function merge(ctx: Context, info: DevServerInfo): Promise<DevServerInfo> {
  const target = userKubeconfig(ctx, info.kubeconfig);
  mkdirSync(dirname(target), { recursive: true });
  await mergeContext(target, readFileSync(info.kubeconfig, 'utf8'), devContextName);
  const { writeDevServerInfo } = await devServerModule();
  const updated = { ...info, mergedInto: target };
  writeDevServerInfo(updated);
  ctx.out.info(`Added the context sympozium-dev to ${target} (kubectl --context sympozium-dev ...).`);
  return updated;
}

async function unmerge(ctx: Context, info: DevServerInfo | undefined): Promise<void> {
  if (!info?.mergedInto || !existsSync(info.mergedInto)) return;
  if (await removeContext(info.mergedInto, devContextName)) ctx.out.info(`Removed the context sympozium-dev from ${info.mergedInto}.`);
}
