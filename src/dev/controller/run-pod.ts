import { randomBytes } from 'node:crypto';
import { runInstance, type AgentRun } from '../../sympozium/types.js';
import type { ControllerContext } from './context.js';
import { recordEvent } from './events.js';
import { deleteIfExists, now, ownerReference, pathOf } from './resources.js';
import { defaultRunTimeoutMs as defaultTimeoutMs, parseGoDuration } from './timings.js';

/** A task run's Job and pod as upstream's controller and a real cluster make them, played by dev's agent. */

/** Deletes a task run's Job and its pod (by name when known), ignoring what is already gone. */
export async function removeRunPod(c: ControllerContext, namespace: string, job: string, pod: string | undefined): Promise<void> {
  await Promise.all([
    deleteIfExists(c.client, pathOf('jobs', namespace, job)).catch(() => false),
    pod ? deleteIfExists(c.client, pathOf('pods', namespace, pod)).catch(() => false) : Promise.resolve(false),
  ]);
}

/** A run's pod as the agent sees it: where its output goes, and its end. */
export interface RunPod {
  name: string;
  log(container: string, text: string): void;
  stream(container: string, chunk: string): void;
  finish(succeeded: boolean): Promise<void>;
  /** A container the kubelet cannot start, and the pod Pending because of it. */
  waiting(container: string, reason: string, message: string): Promise<void>;
  /** The container started (after waiting, if `afterWaiting`). */
  started(container: string, afterWaiting: boolean): Promise<void>;
}

/**
 * The Job upstream creates for a task run (named as the run, owned by it, labelled as buildJob labels it) and
 * its pod with the agent and ipc-bridge containers; the pod's output goes to the API server's pod logs, so
 * `kubectl logs` and `sympozium runs logs` read it. The Job is deleted 300 s after it finishes, as its
 * ttlSecondsAfterFinished says, and the pod with it (agentrun_controller.go, buildJob, v0.5.8 and v0.10.46).
 */
export async function startRunPod(c: ControllerContext, run: AgentRun): Promise<RunPod> {
  const namespace = run.metadata.namespace ?? 'default';
  const name = run.metadata.name;
  const labels = {
    'sympozium.ai/agent-run': name,
    'sympozium.ai/instance': runInstance(run) ?? '',
    'sympozium.ai/component': 'agent-run',
    'app.kubernetes.io/part-of': 'sympozium',
    'app.kubernetes.io/managed-by': 'sympozium-controller',
  };
  const timeoutSeconds = Math.round((parseGoDuration(run.spec.timeout) ?? defaultTimeoutMs) / 1000);
  const containers = [
    { name: 'agent', image: 'ghcr.io/sympozium-ai/sympozium/agent-runner:local' },
    { name: 'ipc-bridge', image: 'ghcr.io/sympozium-ai/sympozium/ipc-bridge:local' },
  ];
  const job = await c.client.create<{ metadata: { name: string; uid?: string }; apiVersion?: string; kind?: string }>(pathOf('jobs', namespace), {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace, labels, ownerReferences: [ownerReference(run)] },
    spec: {
      ttlSecondsAfterFinished: 300,
      activeDeadlineSeconds: timeoutSeconds + 60,
      backoffLimit: 0,
      template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers } },
    },
  });
  const podName = `${name}-${randomBytes(3).toString('hex').slice(0, 5)}`;
  const started = now();
  const pod = await c.client.create<{ metadata: { uid?: string } }>(pathOf('pods', namespace), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, namespace, labels: { ...labels, 'job-name': name, 'batch.kubernetes.io/job-name': name }, ownerReferences: [{ ...ownerReference(job as never), apiVersion: 'batch/v1', kind: 'Job' }] },
    spec: { restartPolicy: 'Never', containers },
  });
  const running = (container: string) => ({ name: container, ready: true, started: true, restartCount: 0, image: containers.find((entry) => entry.name === container)!.image, imageID: '', state: { running: { startedAt: started } } });
  await c.client.mergePatch(pathOf('pods', namespace, podName, 'status'), {
    status: { phase: 'Running', startTime: started, podIP: '127.0.0.1', hostIP: '127.0.0.1', containerStatuses: containers.map((container) => running(container.name)) },
  });
  await c.client.mergePatch(pathOf('jobs', namespace, name, 'status'), { status: { active: 1, startTime: started } });
  const logs = c.podLogs;
  let pending = '';
  logs?.append(namespace, podName, 'ipc-bridge', 'ipc-bridge: listening on /ipc');
  const statuses = () => containers.map((container) => running(container.name));
  // Recorded one after another, so they list in the order they happened.
  let recorded = Promise.resolve();
  const record = (...event: Parameters<typeof recordEvent> extends [unknown, ...infer Rest] ? Rest : never) => {
    recorded = recorded.then(() => recordEvent(c.client, ...event));
  };
  const jobRef = { apiVersion: 'batch/v1', kind: 'Job', name, namespace, uid: job.metadata.uid };
  const podRef = { apiVersion: 'v1', kind: 'Pod', name: podName, namespace, uid: pod.metadata.uid };
  const containerStarts = (container: string) => {
    const ref = { ...podRef, fieldPath: `spec.containers{${container}}` };
    record(ref, 'kubelet', 'Normal', 'Pulled', `Container image "${containers.find((entry) => entry.name === container)!.image}" already present on machine`);
    record(ref, 'kubelet', 'Normal', 'Created', `Created container: ${container}`);
    record(ref, 'kubelet', 'Normal', 'Started', `Started container ${container}`);
  };
  record(jobRef, 'job-controller', 'Normal', 'SuccessfulCreate', `Created pod: ${podName}`);
  record(podRef, 'default-scheduler', 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${podName} to sympozium-dev`);
  containerStarts('ipc-bridge');
  return {
    name: podName,
    waiting: async (container, reason, message) => {
      const containerStatuses = statuses().map((status) => (status.name === container ? { ...status, ready: false, started: false, state: { waiting: { reason, message } } } : status));
      await c.client.mergePatch(pathOf('pods', namespace, podName, 'status'), { status: { phase: 'Pending', containerStatuses } }).catch(() => {});
      record({ ...podRef, fieldPath: `spec.containers{${container}}` }, 'kubelet', 'Warning', 'Failed', `Error: ${message}`);
    },
    started: async (container, afterWaiting) => {
      if (afterWaiting) await c.client.mergePatch(pathOf('pods', namespace, podName, 'status'), { status: { phase: 'Running', containerStatuses: statuses() } }).catch(() => {});
      containerStarts(container);
    },
    log: (container, text) => {
      // What was streamed without a final newline comes first, as it would on stdout.
      if (pending && container === 'agent') {
        logs?.append(namespace, podName, container, pending);
        pending = '';
      }
      logs?.append(namespace, podName, container, text);
    },
    stream: (container, chunk) => {
      // Streamed text becomes log lines as newlines arrive, as a container's stdout does.
      pending += chunk;
      const cut = pending.lastIndexOf('\n');
      if (cut < 0) return;
      logs?.append(namespace, podName, container, pending.slice(0, cut));
      pending = pending.slice(cut + 1);
    },
    finish: async (succeeded) => {
      if (pending) logs?.append(namespace, podName, 'agent', pending);
      pending = '';
      logs?.append(namespace, podName, 'ipc-bridge', 'ipc-bridge: agent finished, exiting');
      for (const container of containers) logs?.end(namespace, podName, container.name);
      const finished = now();
      const terminated = (container: string) => ({
        ...running(container),
        ready: false,
        started: false,
        state: { terminated: { exitCode: succeeded ? 0 : 1, reason: succeeded ? 'Completed' : 'Error', startedAt: started, finishedAt: finished } },
      });
      await c.client.mergePatch(pathOf('pods', namespace, podName, 'status'), { status: { phase: succeeded ? 'Succeeded' : 'Failed', containerStatuses: containers.map((container) => terminated(container.name)) } }).catch(() => {});
      const condition = succeeded ? { type: 'Complete', status: 'True' } : { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      await c.client
        .mergePatch(pathOf('jobs', namespace, name, 'status'), { status: { active: 0, ...(succeeded ? { succeeded: 1, completionTime: finished } : { failed: 1 }), conditions: [{ ...condition, lastTransitionTime: finished }] } })
        .catch(() => {});
      // ttlSecondsAfterFinished: the TTL controller deletes the Job, and the garbage collector its pod (the
      // emulator has no garbage collector, so both are deleted here).
      if (succeeded) record(jobRef, 'job-controller', 'Normal', 'Completed', 'Job completed');
      else record(jobRef, 'job-controller', 'Warning', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
      await recorded;
      const ttl = setTimeout(() => void removeRunPod(c, namespace, name, podName), c.timings.jobTtlMs);
      ttl.unref();
    },
  };
}
