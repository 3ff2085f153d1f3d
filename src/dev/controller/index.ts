import type { KubeClient, KubeObject } from '../../kube/client.js';
import { labels, runInstance, type AgentRun, type SympoziumInstance } from '../../sympozium/types.js';
import { AgentEventBus } from '../providers/streams.js';
import { ProxyManager, RunBroker } from '../webproxy/index.js';
import { queueKeys, type ControllerContext, type Deployment, type Pod, type PodLogWriter } from './context.js';
import { Informer, type Watched } from './informer.js';
import { InstanceReconciler } from './instance.js';
import { WorkQueue } from './queue.js';
import { agentRunLabel, pathOf, type Secret } from './resources.js';
import { instancePath, releaseProfile, type ReleaseProfile } from './release-profile.js';
import { ServerRuns, serverComponent, webProxyLogLine } from './server-run.js';
import { TaskRuns } from './task-run.js';
import type { Timings } from './timings.js';

export interface ControllerOptions {
  /** For reads and writes. */
  client: KubeClient;
  /** For the long-lived watches, so they never take the sockets requests need. */
  watchClient: KubeClient;
  timings: Timings;
  log: (line: string) => void;
  gatewayBaseDomain?: string;
  historyLimit?: number;
  version?: string;
  /** The upstream release to behave as; the default release when absent. */
  profile?: ReleaseProfile;
  /** Where the run pods' container output goes (the API server's pod logs). */
  podLogs?: PodLogWriter;
}

/**
 * The Sympozium controller of the local control plane. It sees the cluster only through the API server's HTTP
 * API, through watches (informers), like the real one: instances, runs, Secrets, and the Deployments, Services
 * and pods it creates for server runs. Every change queues a reconcile of the object it concerns.
 */
export class Controller {
  private readonly c: ControllerContext;
  private readonly informers: Informer<Watched>[];
  private readonly instancesReconciler: InstanceReconciler;
  private readonly serverRuns: ServerRuns;
  private readonly taskRuns: TaskRuns;
  private resync?: NodeJS.Timeout;

  constructor(options: ControllerOptions) {
    const log = options.log;
    const profile = options.profile ?? releaseProfile();
    const watch = <T extends Watched = KubeObject>(path: string, labelSelector?: string) => new Informer<T>(options.watchClient, { path, labelSelector, log });
    const ownedSelector = `${labels.component}=${serverComponent}`;
    const instances = watch<SympoziumInstance>(instancePath(profile));
    const runs = watch<AgentRun>(pathOf('runs'));
    const secrets = watch<Secret>(pathOf('secrets'));
    const deployments = watch<Deployment>(pathOf('deployments'), ownedSelector);
    const services = watch(pathOf('services'), ownedSelector);
    const pods = watch<Pod>(pathOf('pods'), ownedSelector);
    const bus = new AgentEventBus();
    const queue = new WorkQueue((key) => this.process(key), log);
    const broker = new RunBroker(options.client, runs, instances, bus, profile);
    // The proxy's own lines go to the log of the instance's serving pod, as they would from upstream's web-proxy
    // container, so `runs logs <server run>` and `kubectl logs` show which pod served which run.
    const containerLog = (namespace: string, instance: string, message: string, fields: Record<string, string>) => {
      const pod = pods.list((candidate) => candidate.metadata.namespace === namespace && candidate.metadata.labels?.[labels.instance] === instance && !candidate.metadata.deletionTimestamp)[0];
      if (pod?.metadata.name) options.podLogs?.append(namespace, pod.metadata.name, 'web-proxy', webProxyLogLine(message, fields));
    };
    const proxies = new ProxyManager({ broker, profile, secrets, runTimeout: options.timings.webRunTimeout, proxyTimeoutMs: options.timings.proxyTimeoutMs, log, containerLog });
    this.c = {
      client: options.client,
      timings: options.timings,
      log,
      profile,
      gatewayBaseDomain: options.gatewayBaseDomain,
      historyLimit: options.historyLimit ?? 50,
      instances,
      runs,
      secrets,
      deployments,
      services,
      pods,
      queue,
      proxies,
      bus,
      podLogs: options.podLogs,
    };
    this.informers = [instances, runs, secrets, deployments, services, pods] as unknown as Informer<Watched>[];
    this.instancesReconciler = new InstanceReconciler(this.c);
    this.serverRuns = new ServerRuns(this.c);
    this.taskRuns = new TaskRuns(this.c);
    this.wire();
  }

  private wire(): void {
    const { instances, runs, secrets, deployments, services, pods, queue } = this.c;
    const ns = (object: Watched) => object.metadata.namespace ?? 'default';
    instances.on((_event, instance) => queue.add(queueKeys.instance(ns(instance), instance.metadata.name)));
    runs.on((event, run, previous) => {
      queue.add(queueKeys.run(ns(run), run.metadata.name));
      if (event === 'delete') this.taskRuns.forget(ns(run), run.metadata.name);
      // Instance counts change when a run appears, goes, or changes phase; a burst of run changes (a busy web
      // endpoint) is coalesced into one instance reconcile.
      if (event !== 'update' || previous?.status?.phase !== run.status?.phase) {
        const instance = runInstance(run);
        if (instance) queue.addSoon(queueKeys.instance(ns(run), instance), this.c.timings.countsDebounceMs);
      }
    });
    secrets.on((_event, secret) => {
      // Any instance of the namespace may name it (authRefs, channels, auth_secret_ref): cheap to recheck them all.
      for (const instance of instances.list((item) => item.metadata.namespace === secret.metadata.namespace)) {
        queue.add(queueKeys.instance(ns(instance), instance.metadata.name));
      }
    });
    for (const informer of [deployments, services, pods] as unknown as Informer<KubeObject>[]) {
      informer.on((_event, object) => {
        const run = object.metadata.labels?.[agentRunLabel];
        if (run) queue.add(queueKeys.run(ns(object), run));
      });
    }
  }

  private async process(key: string): Promise<void> {
    const [kind, rest] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    const [namespace, name] = rest.split('/') as [string, string];
    if (kind === 'instance') return this.instancesReconciler.reconcile(namespace, name);
    if (kind === 'prune') return this.taskRuns.prune(namespace, name);
    const run = this.c.runs.get(namespace, name);
    if (!run) return this.serverRuns.cleanup(namespace, name);
    if (run.spec?.mode === 'server') return this.serverRuns.reconcile(run);
    return this.taskRuns.reconcile(run);
  }

  async start(): Promise<void> {
    for (const informer of this.informers) informer.start();
    await Promise.all(this.informers.map((informer) => informer.synced));
    this.c.log('controller: caches synced');
    this.resync = setInterval(() => {
      for (const instance of this.c.instances.list()) this.c.queue.add(queueKeys.instance(instance.metadata.namespace ?? 'default', instance.metadata.name));
    }, this.c.timings.resyncMs);
    this.resync.unref?.();
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    this.c.queue.stop();
    this.taskRuns.stopAll();
    for (const informer of this.informers) informer.stop();
    await this.c.proxies.stopAll();
    this.c.bus.clear();
  }

  /** The port of an instance's web proxy, for tests and `dev status`. */
  proxyPort(namespace: string, instance: string): number | undefined {
    return this.c.proxies.port(namespace, instance);
  }
}
