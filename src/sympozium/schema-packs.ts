import {
  array,
  boolean,
  conditions,
  integer,
  object,
  oneOf,
  resources,
  string,
  stringList,
  type Schema,
} from './schema-builders.js';

/**
 * SkillPack (from upstream's shape, as the contract describes the built-ins) and SympoziumPolicy. The contract
 * names the policy but not its fields, so this is a small spec of our own, with upstream's field names where it
 * overlaps them so that a policy written for upstream mostly validates here:
 *   sandboxPolicy   whether runs must be sandboxed, and the default image;
 *   subagentPolicy  nesting and concurrency limits for sub-agents;
 *   toolGating      a default action and per-tool allow/deny rules;
 *   networkPolicy   deny-all egress with explicit exceptions;
 *   featureGates    named on/off switches for the controller.
 */

const openObject = (description: string): Schema => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });

const rbacRule = object(
  'One RBAC rule the sidecar needs.',
  {
    apiGroups: stringList('API groups, "" for the core group.'),
    resources: stringList('Resources, e.g. pods.'),
    verbs: stringList('Verbs, e.g. get, list, watch.'),
  },
  ['apiGroups', 'resources', 'verbs'],
);

const sidecar = object(
  'A container injected next to the agent when the pack is mounted; it provides tools or a server.',
  {
    image: string('Container image of the sidecar.'),
    command: stringList('Entrypoint override.'),
    env: array(
      'Environment variables of the sidecar.',
      object('One variable.', { name: string('Variable name.'), value: string('Its value.') }, ['name']),
    ),
    mountWorkspace: boolean('Whether /workspace is shared with the sidecar.'),
    resources: resources('Resources of the sidecar.'),
    rbac: array('Namespaced RBAC rules the controller grants the run.', rbacRule),
    clusterRBAC: array('Cluster-wide RBAC rules the controller grants the run.', rbacRule),
    secretRef: string('Secret whose keys are mounted as files into the sidecar.'),
    secretMountPath: string('Where secretRef is mounted (default /secrets/<secretRef>).'),
    hostAccess: object('Host-level access for skills that inspect the node (off unless enabled).', {
      enabled: boolean('Whether the settings below apply.'),
      hostNetwork: boolean('Use the node’s network namespace.'),
      hostPID: boolean('Use the node’s PID namespace.'),
      privileged: boolean('Run the sidecar privileged.'),
      runAsRoot: boolean('Run the sidecar as UID 0.'),
      mounts: array(
        'hostPath mounts.',
        object(
          'One mount.',
          {
            hostPath: string('Absolute path on the node.'),
            mountPath: string('Path inside the sidecar.'),
            readOnly: boolean('Mount read-only (default true).'),
          },
          ['hostPath', 'mountPath'],
        ),
      ),
    }),
    // Pod volumes are Kubernetes' own large, versioned schema: kept open here, checked by the API server.
    volumes: array('Extra pod volumes (core/v1 Volume), e.g. CSI secrets or PVCs.', openObject('A core/v1 Volume.')),
    volumeMounts: array('Mounts of those volumes into the sidecar (core/v1 VolumeMount).', openObject('A core/v1 VolumeMount.')),
    requiresServer: boolean('The sidecar serves requests: the run becomes a Deployment and a Service.'),
    ports: array(
      'Ports of the sidecar, used for the Service when requiresServer is set.',
      object(
        'One port.',
        {
          name: string('Port name, e.g. http.'),
          containerPort: integer('Port number.', { minimum: 1, maximum: 65535 }),
          protocol: oneOf('Protocol.', ['TCP', 'UDP', 'SCTP']),
        },
        ['name', 'containerPort'],
      ),
    ),
  },
  ['image'],
);

export const skillPackSpec: Schema = object(
  'A bundle of Markdown skills (and optionally a tool sidecar) mounted into agent pods.',
  {
    skills: array(
      'The skills of the pack.',
      object(
        'One skill.',
        {
          name: string('Skill identifier.'),
          description: string('What the skill does.'),
          requires: object('What the skill needs at run time.', {
            bins: stringList('Binaries the skill calls.'),
            tools: stringList('Agent tools the skill expects.'),
          }),
          content: string('The skill’s Markdown instructions.'),
        },
        ['name', 'content'],
      ),
    ),
    category: string('Classification, e.g. kubernetes, security, connectivity.'),
    source: string('Where the pack was imported from.'),
    version: string('Version of the pack.'),
    runtimeRequirements: object('What the agent container needs for these skills.', {
      image: string('Image that satisfies the requirements.'),
      sandbox: boolean('Whether the skills need a sandbox.'),
      minMemory: string('Minimum memory, e.g. 256Mi.'),
      minCPU: string('Minimum CPU, e.g. 100m.'),
    }),
    sidecar,
  },
  ['skills'],
);

export const skillPackStatus: Schema = object('What the controller last observed.', {
  phase: string('Current phase, e.g. Ready.'),
  configMapName: string('The ConfigMap generated from the skills.'),
  skillCount: integer('Number of skills in the pack.'),
  conditions,
});

const allowOrDeny = ['allow', 'deny'];

export const policySpec: Schema = object('Governance for the instances that reference this policy.', {
  sandboxPolicy: object(
    'Sandbox requirements.',
    {
      required: boolean('Every run must use the sandbox.'),
      defaultImage: string('Sandbox image used when a run names none.'),
      allowHostMounts: boolean('Whether hostPath mounts are allowed.'),
    },
    ['required'],
  ),
  subagentPolicy: object('Limits for sub-agents.', {
    maxDepth: integer('Deepest nesting of sub-agents.', { minimum: 0 }),
    maxConcurrent: integer('Sub-agent runs at once.', { minimum: 0 }),
  }),
  toolGating: object('Which tools agents may call.', {
    defaultAction: oneOf('What happens to tools no rule names.', allowOrDeny, { default: 'allow' }),
    rules: array(
      'Per-tool rules.',
      object('One rule.', { tool: string('Tool name.'), action: oneOf('Allow or deny it.', allowOrDeny) }, ['tool', 'action']),
    ),
  }),
  networkPolicy: object('Network isolation of agent pods.', {
    denyAll: boolean('Deny all egress except the exceptions below.'),
    allowDNS: boolean('Allow DNS lookups.'),
    allowedEgress: array(
      'Destinations agents may reach.',
      object('One destination.', { host: string('Host name or CIDR.'), port: integer('Port.', { minimum: 1, maximum: 65535 }) }, [
        'host',
      ]),
    ),
  }),
  featureGates: { type: 'object', description: 'Named controller features switched on or off.', additionalProperties: { type: 'boolean' } },
});

export const policyStatus: Schema = object('What the controller last observed.', {
  boundInstances: integer('Instances that reference this policy.'),
  conditions,
});

/** Used by init for the policyRef question. */
/** Upstream's presets (the Helm chart's default-policies.yaml); there is no `default`. */
export const policyPresets = ['permissive', 'restrictive', 'network-isolated'];
