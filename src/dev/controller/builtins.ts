import { apiVersion, labels, systemNamespace } from '../../sympozium/types.js';

/**
 * What an upstream installation puts in `sympozium-system`: the built-in SkillPacks (labelled
 * sympozium.ai/builtin=true; web-endpoint carries the server sidecar, port http 8080) and the three policy
 * presets. The skill texts are short summaries: the local agent does not read them, but `kubectl get skillpacks`
 * and `sympozium doctor` should see what a real cluster shows.
 */

interface PackDefinition {
  name: string;
  category: string;
  skills: { name: string; description: string; content: string }[];
  sidecar?: Record<string, unknown>;
}

const packs: PackDefinition[] = [
  {
    name: 'web-endpoint',
    category: 'connectivity',
    skills: [
      {
        name: 'web-endpoint',
        description: 'Serve the agent as an OpenAI-compatible HTTP API and an MCP server.',
        content: '# Web endpoint\nRequests arrive through the web-proxy sidecar; each one becomes a task AgentRun.\n',
      },
    ],
    sidecar: {
      image: 'ghcr.io/sympozium-ai/sympozium/web-proxy:local',
      requiresServer: true,
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      env: [{ name: 'WEB_PROXY_PORT', value: '8080' }],
    },
  },
  pack('k8s-ops', 'kubernetes', 'Inspect and operate Kubernetes workloads with kubectl.'),
  pack('memory', 'memory', 'Remember facts between runs of the same instance.'),
  pack('code-review', 'development', 'Review a diff or pull request and suggest changes.'),
  pack('github-gitops', 'development', 'Open branches and pull requests for GitOps changes.'),
  pack('incident-response', 'operations', 'Triage an incident: gather signals, form hypotheses, propose mitigations.'),
  pack('llmfit', 'models', 'Pick a model that fits the hardware and the task.'),
  pack('software-dev', 'development', 'Plan, write and test code changes.'),
  pack('sre-observability', 'observability', 'Query metrics, logs and traces to explain system behaviour.'),
  pack('subagents', 'orchestration', 'Delegate parts of a task to sub-agents.'),
];

function pack(name: string, category: string, description: string): PackDefinition {
  return { name, category, skills: [{ name, description, content: `# ${name}\n${description}\n` }] };
}

export function builtinSkillPacks(): Record<string, unknown>[] {
  return packs.map((definition) => ({
    apiVersion,
    kind: 'SkillPack',
    metadata: { name: definition.name, namespace: systemNamespace, labels: { [labels.builtin]: 'true' } },
    spec: {
      category: definition.category,
      version: 'local',
      source: 'builtin',
      skills: definition.skills,
      ...(definition.sidecar ? { sidecar: definition.sidecar } : {}),
    },
  }));
}

export function builtinPolicies(): Record<string, unknown>[] {
  const policy = (name: string, spec: Record<string, unknown>) => ({
    apiVersion,
    kind: 'SympoziumPolicy',
    metadata: { name, namespace: systemNamespace, labels: { [labels.builtin]: 'true' } },
    spec,
  });
  return [
    policy('permissive', {
      sandboxPolicy: { required: false, allowHostMounts: true },
      subagentPolicy: { maxDepth: 5, maxConcurrent: 20 },
      toolGating: { defaultAction: 'allow' },
      networkPolicy: { denyAll: false, allowDNS: true },
    }),
    // Upstream's Helm chart presets (default-policies.yaml): there is no `default`. The spec shapes are the
    // other engineer's to make exact.
    policy('network-isolated', {
      sandboxPolicy: { required: false, allowHostMounts: false },
      subagentPolicy: { maxDepth: 3, maxConcurrent: 10 },
      toolGating: { defaultAction: 'allow' },
      networkPolicy: { denyAll: true, allowDNS: true },
    }),
    policy('restrictive', {
      sandboxPolicy: { required: true, allowHostMounts: false },
      subagentPolicy: { maxDepth: 1, maxConcurrent: 2 },
      toolGating: { defaultAction: 'deny', rules: [{ tool: 'read_file', action: 'allow' }] },
      networkPolicy: { denyAll: true, allowDNS: true },
    }),
  ];
}

/** A minimal HTTPRoute CRD, installed only when a gateway base domain is configured. */
export function httpRouteCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'httproutes.gateway.networking.k8s.io' },
    spec: {
      group: 'gateway.networking.k8s.io',
      scope: 'Namespaced',
      names: { kind: 'HTTPRoute', listKind: 'HTTPRouteList', plural: 'httproutes', singular: 'httproute' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

/**
 * The controller itself as a cluster shows it: a Deployment (and its pod) in sympozium-system. Here the
 * controller runs inside the local control plane's process; these objects let `kubectl get deploy -n
 * sympozium-system` and `sympozium doctor` see what they see on a real installation.
 */
export const controllerName = 'sympozium-controller-manager';
const controllerLabels = { 'app.kubernetes.io/name': 'sympozium', 'app.kubernetes.io/component': 'controller-manager' };
const controllerImage = 'ghcr.io/sympozium-ai/sympozium/controller:local';

export function controllerDeployment(): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: controllerName, namespace: systemNamespace, labels: controllerLabels },
    spec: {
      replicas: 1,
      selector: { matchLabels: controllerLabels },
      template: { metadata: { labels: controllerLabels }, spec: { containers: [{ name: 'manager', image: controllerImage }] } },
    },
  };
}

export function controllerPod(): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${controllerName}-local-0`, namespace: systemNamespace, labels: controllerLabels },
    spec: { containers: [{ name: 'manager', image: controllerImage }] },
  };
}
