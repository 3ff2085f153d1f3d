import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../../kube/client.js';
import { now, pathOf } from './resources.js';

/**
 * The core/v1 Events a real cluster records around a task run's Job and pod: the Job controller's SuccessfulCreate
 * and Completed (or BackoffLimitExceeded), the scheduler's Scheduled, the kubelet's Pulled, Created, Started and,
 * when a container cannot start, Failed. They outlive the pod (kube-apiserver keeps Events for an hour by
 * default, --event-ttl), which is what `runs logs` shows once upstream has deleted the Job and pod. Dev has no
 * scheduler, kubelet or Job controller, so its agent records what they would.
 */

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
  fieldPath?: string;
}

export type EventSource = 'job-controller' | 'default-scheduler' | 'kubelet';

export async function recordEvent(client: KubeClient, involved: InvolvedObject, source: EventSource, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
  const time = now();
  await client
    .create(pathOf('events', involved.namespace), {
      apiVersion: 'v1',
      kind: 'Event',
      // Named as client-go's recorder names them: the object's name and a unique suffix.
      metadata: { name: `${involved.name}.${randomBytes(8).toString('hex')}`, namespace: involved.namespace },
      involvedObject: involved,
      reason,
      message,
      type,
      source: source === 'kubelet' ? { component: 'kubelet', host: 'sympozium-dev' } : { component: source },
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
      reportingComponent: source === 'kubelet' ? 'kubelet' : source,
      reportingInstance: source === 'kubelet' ? 'sympozium-dev' : '',
    })
    // An Event is a record, never a reason for the run to fail.
    .catch(() => {});
}
