import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { resourcePath } from '../kube/client.js';
import { deploymentProblem, deploymentReady, type Deployment } from '../kube/deployments.js';
import { KubeApiError } from '../kube/errors.js';
import { sympoziumResources } from '../sympozium/kinds.js';
import type { AgentRun, SympoziumInstance } from '../sympozium/types.js';
import { group, systemNamespace, version, webEndpointSkill } from '../sympozium/types.js';

/**
 * `sympozium doctor`: every precondition of the other commands, each as pass/warn/fail with the fix, so a
 * new user on a strange cluster learns in one command what is missing.
 */

type CheckStatus = 'pass' | 'warn' | 'fail';

interface Check {
  name: string;
  status: CheckStatus;
  message: string;
  fix?: string;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** How many instances `doctor` without a name checks in the namespace (the rest are named as not checked). */
const instancesChecked = 20;

export async function doctor(options: { instance?: string }, ctx: Context): Promise<void> {
  const checks: Check[] = [];
  let kube: KubeClient | undefined;
  try {
    kube = await ctx.kube();
    checks.push({ name: 'kubeconfig', status: 'pass', message: `${kube.describe()}, namespace ${kube.namespace}` });
  } catch (error) {
    checks.push({ name: 'kubeconfig', status: 'fail', message: errorText(error), fix: error instanceof CliError ? error.hint : undefined });
  }
  if (kube) checks.push(...(await clusterChecks(kube)));
  if (kube && !checks.some((check) => check.status === 'fail' && (check.name === 'cluster' || check.name === 'sympozium API' || check.name === 'instance kind'))) {
    checks.push(...(await instanceChecks(kube, options.instance)));
  }
  print(checks, ctx);
  const failed = checks.filter((check) => check.status === 'fail');
  if (failed.length > 0) {
    throw new CliError(`${failed.length} check${failed.length === 1 ? '' : 's'} failed`, { hint: 'Apply the fixes above, then run `sympozium doctor` again.' });
  }
}

/**
 * One instance, or every instance of the namespace: what makes each of its runs fail on upstream (no reconcile,
 * a missing policy or provider Secret), what upstream skips silently (a missing SkillPack), and its web endpoint
 * (a Failed server run is never replaced, so it fails the check with the way out).
 */
async function instanceChecks(kube: KubeClient, name: string | undefined): Promise<Check[]> {
  const [{ discoverInstanceKind, instancePath }, { instanceNotFound }, { failsEveryRun, referenceNotes }, { observeEndpoint }, { listRuns }] = await Promise.all([
    import('../sympozium/kinds.js'),
    import('../sympozium/instances.js'),
    import('../sympozium/cluster-checks.js'),
    import('../sympozium/web-endpoint-state.js'),
    import('../sympozium/runs.js'),
  ]);
  const kind = await discoverInstanceKind(kube);
  let instances: SympoziumInstance[];
  const checks: Check[] = [];
  if (name) {
    const found = await kube.getOrUndefined<SympoziumInstance>(instancePath(kind, kube.namespace, name));
    if (!found) {
      const error = await instanceNotFound(kube, { kind, namespace: kube.namespace, name, path: instancePath(kind, kube.namespace, name) });
      return [{ name: `instance ${name}`, status: 'fail', message: error.message, fix: error.hint }];
    }
    instances = [found];
  } else {
    const list = await kube.list<SympoziumInstance>(instancePath(kind, kube.namespace)).catch(() => undefined);
    if (!list) return [];
    instances = list.items.slice(0, instancesChecked);
    if (list.items.length > instancesChecked) {
      checks.push({ name: 'instances', status: 'warn', message: `${list.items.length} instances in ${kube.namespace}; checked the first ${instancesChecked}`, fix: 'Name one: sympozium doctor <instance>' });
    }
  }
  const runs = await listRuns(kube, kube.namespace, {}).catch(() => [] as AgentRun[]);
  const documents = instances.map((instance, index) => ({ source: instance.metadata.name, index, line: 0, column: 0, object: instance as unknown as Record<string, unknown> }));
  const [missing, endpoints] = await Promise.all([referenceNotes(documents, kube), Promise.all(instances.map((instance) => observeEndpoint(kube, instance, runs)))]);
  instances.forEach((instance, index) => {
    const label = `instance ${instance.metadata.name}`;
    const phase = instance.status?.phase;
    const problems = missing.filter((problem) => problem.source === instance.metadata.name);
    const fatal = problems.filter(failsEveryRun);
    if (!phase) checks.push({ name: label, status: 'fail', message: 'not reconciled (no status.phase): the controller has not seen it', fix: 'Check the controller (above) and its logs.' });
    else if (phase === 'Error') checks.push({ name: label, status: 'fail', message: 'phase Error (upstream sets it when a channel fails to reconcile)', fix: `sympozium instances describe ${instance.metadata.name}` });
    for (const problem of fatal) checks.push({ name: label, status: 'fail', message: `${problem.path}: ${problem.message}` });
    for (const problem of problems.filter((entry) => !failsEveryRun(entry))) checks.push({ name: label, status: 'warn', message: `${problem.path}: ${problem.message}` });
    const endpoint = endpoints[index];
    if (endpoint) {
      const run = endpoint.serverRun?.metadata.name;
      if (endpoint.state.startsWith('Failed')) {
        checks.push({
          name: `${label} web endpoint`,
          status: 'fail',
          message: `server run ${run} ${endpoint.state}`,
          fix: `Sympozium never replaces a Failed server run: fix the cause, then sympozium enable web-endpoint ${instance.metadata.name} --recreate`,
        });
      } else if (!run) {
        checks.push({ name: `${label} web endpoint`, status: 'warn', message: 'enabled, but there is no server run yet', fix: 'The controller creates it on its next reconcile (at most 60 s upstream); check the controller if it never comes.' });
      } else if (!endpoint.keySecret) {
        checks.push({ name: `${label} web endpoint`, status: 'warn', message: `server run ${run} is ${endpoint.state}, but its key Secret does not exist yet` });
      } else {
        checks.push({
          name: `${label} web endpoint`,
          status: endpoint.urlProblem ? 'warn' : 'pass',
          message: `server run ${run} ${endpoint.state}, key Secret ${endpoint.keySecret}, ${endpoint.url ? `public at ${endpoint.url}${endpoint.urlProblem ? ` (not accepted: ${endpoint.urlProblem})` : ''}` : 'not public (chat port-forwards)'}`,
        });
      }
    }
    if (phase && !checks.some((check) => check.name === label)) {
      checks.splice(checks.length - (endpoint ? 1 : 0), 0, { name: label, status: 'pass', message: `${phase}; its policy and provider Secrets exist` });
    }
  });
  return checks;
}

async function clusterChecks(kube: KubeClient): Promise<Check[]> {
  const checks: Check[] = [];
  try {
    const info = await kube.get<{ gitVersion?: string; platform?: string }>('/version');
    checks.push({ name: 'cluster', status: 'pass', message: `reachable, Kubernetes ${info.gitVersion ?? 'unknown version'}` });
  } catch (error) {
    checks.push({ name: 'cluster', status: 'fail', message: errorText(error), fix: error instanceof CliError ? error.hint : undefined });
    return checks;
  }

  let served: Set<string> | undefined;
  try {
    served = await sympoziumResources(kube);
  } catch (error) {
    checks.push({ name: 'sympozium API', status: 'fail', message: errorText(error), fix: error instanceof CliError ? error.hint : undefined });
  }
  const install = 'Install Sympozium (its CRDs and controller) on this cluster, or use the local control plane: `sympozium dev up`.';
  if (served === undefined) {
    if (!checks.some((check) => check.name === 'sympozium API')) {
      checks.push({ name: 'sympozium API', status: 'fail', message: `${group}/${version} is not served: Sympozium is not installed`, fix: install });
    }
  } else {
    const kind = served.has('sympoziuminstances') ? 'SympoziumInstance (v0.5-era)' : served.has('agents') ? 'Agent (v0.10+)' : undefined;
    checks.push(
      kind
        ? { name: 'instance kind', status: 'pass', message: `the cluster serves ${kind}` }
        : { name: 'instance kind', status: 'fail', message: 'neither SympoziumInstance nor Agent is served', fix: install },
    );
    const wanted = ['agentruns', 'skillpacks', 'sympoziumpolicies'];
    const missing = wanted.filter((plural) => !served!.has(plural));
    checks.push(
      missing.length === 0
        ? { name: 'CRDs', status: 'pass', message: `served: ${[...served].filter((name) => !name.includes('/')).sort().join(', ')}` }
        : {
            name: 'CRDs',
            status: missing.includes('agentruns') ? 'fail' : 'warn',
            message: `not served: ${missing.join(', ')}`,
            fix: 'Install or upgrade the Sympozium CRDs (the release manifests install them all).',
          },
    );
  }

  const [controller, skillPack, namespace, rbac] = await Promise.all([
    controllerCheck(kube),
    skillPackCheck(kube, served),
    namespaceCheck(kube),
    rbacCheck(kube, served),
  ]);
  checks.push(controller, skillPack, namespace, ...rbac);
  return checks;
}

async function controllerCheck(kube: KubeClient): Promise<Check> {
  try {
    const list = await kube.list<Deployment>(resourcePath({ group: 'apps', version: 'v1', plural: 'deployments', namespace: systemNamespace }));
    const controllers = list.items.filter((deployment) => /controller|manager/.test(deployment.metadata.name ?? ''));
    if (controllers.length === 0) {
      return {
        name: 'controller',
        status: 'warn',
        message: `no controller Deployment in ${systemNamespace}`,
        fix: 'Fine for `sympozium dev` (its controller runs in-process); on a real cluster install the Sympozium controller, or nothing will reconcile.',
      };
    }
    const notReady = controllers.filter((deployment) => !deploymentReady(deployment));
    if (notReady.length > 0) {
      const deployment = notReady[0]!;
      return {
        name: 'controller',
        status: 'fail',
        message: `Deployment ${systemNamespace}/${deployment.metadata.name} is not ready: ${deploymentProblem(deployment)}`,
        fix: `Look at it: kubectl describe deployment ${deployment.metadata.name} -n ${systemNamespace}`,
      };
    }
    return { name: 'controller', status: 'pass', message: `Deployment ${controllers.map((d) => `${systemNamespace}/${d.metadata.name}`).join(', ')} ready` };
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 403) {
      return { name: 'controller', status: 'warn', message: `not allowed to list Deployments in ${systemNamespace}; cannot tell whether the controller runs`, fix: error.hint };
    }
    return { name: 'controller', status: 'warn', message: `could not check: ${errorText(error)}` };
  }
}

async function skillPackCheck(kube: KubeClient, served: Set<string> | undefined): Promise<Check> {
  const name = 'web-endpoint SkillPack';
  if (!served?.has('skillpacks')) return { name, status: 'warn', message: 'SkillPacks are not served', fix: 'Install the Sympozium CRDs.' };
  try {
    const found = await kube.getOrUndefined(resourcePath({ group, version, plural: 'skillpacks', namespace: systemNamespace, name: webEndpointSkill }));
    if (found) return { name, status: 'pass', message: `${systemNamespace}/${webEndpointSkill} exists` };
    const anywhere = await kube.list(resourcePath({ group, version, plural: 'skillpacks' }), { fieldSelector: `metadata.name=${webEndpointSkill}` }).catch(() => undefined);
    const where = anywhere?.items[0]?.metadata.namespace;
    if (where) return { name, status: 'pass', message: `${where}/${webEndpointSkill} exists` };
    return {
      name,
      status: 'warn',
      message: `no ${webEndpointSkill} SkillPack in ${systemNamespace}`,
      fix: '`sympozium enable web-endpoint` will not serve until it exists: reinstall Sympozium\'s built-in SkillPacks.',
    };
  } catch (error) {
    return { name, status: 'warn', message: `could not check: ${errorText(error)}`, fix: error instanceof CliError ? error.hint : undefined };
  }
}

async function namespaceCheck(kube: KubeClient): Promise<Check> {
  try {
    const found = await kube.getOrUndefined(resourcePath({ group: '', version: 'v1', plural: 'namespaces', name: kube.namespace }));
    return found
      ? { name: 'namespace', status: 'pass', message: `${kube.namespace} exists` }
      : { name: 'namespace', status: 'fail', message: `${kube.namespace} does not exist`, fix: `Create it (kubectl create namespace ${kube.namespace}) or pass -n <namespace>.` };
  } catch (error) {
    return { name: 'namespace', status: 'warn', message: `could not check ${kube.namespace}: ${errorText(error)}` };
  }
}

interface Permission {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  why: string;
}

/** What the CLI's commands need, in the current namespace. */
function neededPermissions(instancePlural: string): Permission[] {
  return [
    { verb: 'list', group, resource: instancePlural, why: 'instances list' },
    { verb: 'watch', group, resource: instancePlural, why: 'apply --wait, instances delete' },
    { verb: 'patch', group, resource: instancePlural, why: 'apply, enable/disable web-endpoint' },
    { verb: 'delete', group, resource: instancePlural, why: 'instances delete' },
    { verb: 'list', group, resource: 'agentruns', why: 'runs list' },
    { verb: 'watch', group, resource: 'agentruns', why: 'runs tail, chat' },
    { verb: 'get', group: '', resource: 'secrets', why: 'key show, chat' },
    { verb: 'patch', group: '', resource: 'secrets', why: 'key rotate, apply' },
    { verb: 'get', group: 'apps', resource: 'deployments', why: 'enable web-endpoint' },
    { verb: 'patch', group: 'apps', resource: 'deployments', why: 'key rotate (restart)' },
    { verb: 'get', group: '', resource: 'services', why: 'chat (port-forward)' },
    { verb: 'create', group: '', resource: 'pods', subresource: 'portforward', why: 'chat (port-forward)' },
  ];
}

async function rbacCheck(kube: KubeClient, served: Set<string> | undefined): Promise<Check[]> {
  const plural = served?.has('sympoziuminstances') || !served?.has('agents') ? 'sympoziuminstances' : 'agents';
  const permissions = neededPermissions(plural);
  try {
    const answers = await Promise.all(
      permissions.map((permission) =>
        kube.create<{ status?: { allowed?: boolean; reason?: string } }>('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              namespace: kube.namespace,
              verb: permission.verb,
              group: permission.group,
              resource: permission.resource,
              subresource: permission.subresource,
            },
          },
        }),
      ),
    );
    const denied = permissions.filter((_permission, index) => answers[index]?.status?.allowed !== true);
    if (denied.length === 0) return [{ name: 'RBAC', status: 'pass', message: `allowed everything the CLI needs in namespace ${kube.namespace}` }];
    const text = (permission: Permission) =>
      `${permission.verb} ${permission.resource}${permission.subresource ? `/${permission.subresource}` : ''}${permission.group ? `.${permission.group}` : ''} (${permission.why})`;
    return [
      {
        name: 'RBAC',
        status: denied.length === permissions.length ? 'fail' : 'warn',
        message: `not allowed in namespace ${kube.namespace}: ${denied.map(text).join('; ')}`,
        fix: 'Ask a cluster admin for a Role with those verbs (kubectl auth can-i --list shows what you have).',
      },
    ];
  } catch (error) {
    return [{ name: 'RBAC', status: 'warn', message: `could not ask the cluster (SelfSubjectAccessReview): ${errorText(error)}` }];
  }
}

function print(checks: Check[], ctx: Context): void {
  if (ctx.out.format === 'json' || ctx.out.format === 'yaml') {
    ctx.out.document({ ok: !checks.some((check) => check.status === 'fail'), checks });
    return;
  }
  const color = ctx.out.color;
  const mark = { pass: color.green('✔ pass'), warn: color.yellow('! warn'), fail: color.red('✖ fail') };
  for (const check of checks) {
    ctx.out.result(`${mark[check.status]}  ${check.name}: ${check.message}`);
    if (check.fix && check.status !== 'pass') ctx.out.result(`        fix: ${check.fix}`);
  }
}
