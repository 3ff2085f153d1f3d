import { resourcePath } from '../../kube/client.js';
import { defaultRelease, type Release } from '../../sympozium/releases.js';
import { group, version } from '../../sympozium/types.js';

/**
 * What differs between the upstream releases the local control plane can run, in one place (the reconcilers
 * read it instead of testing the release). Checked against upstream's Go code:
 *
 * - v0.5.8 (4a6f5f1): internal/controller/sympoziuminstance_controller.go reconciles SympoziumInstance; the
 *   web-endpoint AgentRun it creates names the instance in spec.instanceRef (ensureWebEndpointAgentRun), and
 *   agentrun_controller.go validatePolicy looks the instance up by spec.instanceRef.
 * - v0.10.46 (8b74fa0): internal/controller/agent_controller.go reconciles Agent (agents.sympozium.ai) the same
 *   way (same finalizer, phases Running/Serving/Error, labels sympozium.ai/instance and sympozium.ai/component,
 *   run `<name>-web-endpoint`), but the run names it in spec.agentRef, and validatePolicy gets an Agent.
 *
 * Both charts install the controller as Deployment sympozium-controller-manager in sympozium-system
 * (charts/sympozium/templates/controller-deployment.yaml), image ghcr.io/sympozium-ai/sympozium/controller tagged
 * v<appVersion>, and the policy presets (templates/default-policies.yaml) in the release namespace.
 */
export interface ReleaseProfile {
  release: Release;
  /** The kind the instance reconciler owns. */
  instanceKind: 'SympoziumInstance' | 'Agent';
  instancePlural: 'sympoziuminstances' | 'agents';
  /** The AgentRun spec field that names the instance. */
  runRef: 'instanceRef' | 'agentRef';
  /**
   * Whether the web-endpoint server run copies the instance's imagePullSecrets, volumes, volumeMounts and
   * agents.default.env (v0.10 ensureWebEndpointAgentRun does; v0.5.8's does not).
   */
  serverRunInheritsPodSettings: boolean;
  /**
   * v0.10's web proxy (internal/webproxy/openai.go, mcp.go): its runs carry the Agent's imagePullSecrets and
   * agents.default lifecycle and env, and a chat request identical to one whose run has not finished yet (same
   * model, system prompt and task, or the same Idempotency-Key) within 15 minutes reuses that run, found by its
   * sympozium.ai/request-hash label. v0.5.8's proxy does neither.
   */
  webProxyV010: boolean;
  /**
   * Whether the controller publishes `agent.run.failed` when it fails a run (v0.10.46 failRun does, so the web
   * proxy answers at once; v0.5.8 has no publisher, so a request whose run the controller fails waits out the
   * proxy's own timeout).
   */
  runFailedEvent: boolean;
  /** The controller image the chart deploys. */
  controllerImage: string;
}

const profiles: Record<Release, ReleaseProfile> = {
  'v0.5.8': {
    release: 'v0.5.8',
    instanceKind: 'SympoziumInstance',
    instancePlural: 'sympoziuminstances',
    runRef: 'instanceRef',
    serverRunInheritsPodSettings: false,
    webProxyV010: false,
    runFailedEvent: false,
    controllerImage: 'ghcr.io/sympozium-ai/sympozium/controller:v0.5.8',
  },
  'v0.10.46': {
    release: 'v0.10.46',
    instanceKind: 'Agent',
    instancePlural: 'agents',
    runRef: 'agentRef',
    serverRunInheritsPodSettings: true,
    webProxyV010: true,
    runFailedEvent: true,
    controllerImage: 'ghcr.io/sympozium-ai/sympozium/controller:v0.10.46',
  },
};

export function releaseProfile(release: Release = defaultRelease): ReleaseProfile {
  return profiles[release];
}

/** The API path of the profile's instance kind (collection, object or subresource). */
export function instancePath(profile: ReleaseProfile, namespace?: string, name?: string, subresource?: string): string {
  return resourcePath({ group, version, plural: profile.instancePlural, namespace, name, subresource });
}
