import { runInstance, type AgentRun } from '../../sympozium/types.js';
import type { ControllerContext } from './context.js';
import { pathOf } from './resources.js';

/**
 * Upstream's AgentRun reconciler validates a pending run against its instance's policy
 * (validatePolicy in internal/controller/agentrun_controller.go): the policy is looked up only in the run's own
 * namespace, and a missing one fails the run, server runs included. The text is upstream's: the controller wraps
 * the API server's NotFound message. Returns the run's status.error, or undefined when the run may go on.
 */
export async function policyFailure(c: ControllerContext, run: AgentRun): Promise<string | undefined> {
  const namespace = run.metadata.namespace ?? 'default';
  const instanceName = runInstance(run) ?? '';
  const instance = c.instances.get(namespace, instanceName);
  if (!instance) return `policy validation failed: instance "${instanceName}" not found: ${c.profile.instancePlural}.sympozium.ai "${instanceName}" not found`;
  const policy = instance.spec.policyRef;
  if (!policy) return undefined;
  if (await c.client.getOrUndefined(pathOf('policies', namespace, policy))) return undefined;
  return `policy validation failed: policy "${policy}" not found: sympoziumpolicies.sympozium.ai "${policy}" not found`;
}
