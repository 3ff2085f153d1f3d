import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
// js-yaml rather than `yaml` here: this runs on every cluster command, and js-yaml loads and parses a kubeconfig
// in a third of the time (bench/: ~10 ms of a ~180 ms `key show`). `yaml` stays where positions or comments matter.
import { load as parseYaml } from 'js-yaml';
import { CliError, ExitCode } from '../errors.js';
import { parseProxyUrl } from './proxy-env.js';

/**
 * Kubeconfig loading, done here rather than by client-node's KubeConfig because the common cases (token,
 * client certificate, CA, insecure) need only a YAML parser, and loading client-node costs every command ~300 ms
 * (see bench/). Exec plugins are run by our own exec-plugin.ts (client-node's did not meet the spec: no client
 * certificates, no terminal, no cluster info); the oidc auth provider is oidc.ts's (client-node's refresh is broken).
 */

interface NamedCluster {
  name: string;
  cluster: Record<string, unknown>;
}
interface NamedUser {
  name: string;
  user: Record<string, unknown>;
}
interface NamedContext {
  name: string;
  context: { cluster?: string; user?: string; namespace?: string };
}

export interface ResolvedKubeConfig {
  /** The files it came from, for messages. */
  files: string[];
  contextName: string;
  clusterName: string;
  userName: string;
  server: string;
  /** The kubeconfig's server as written when it had no scheme (then `server` is http:// in front of it). */
  serverWithoutScheme?: string;
  namespace: string;
  /** True when the namespace came from the context rather than the "default" fallback. */
  namespaceFromContext: boolean;
  ca?: Buffer;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  /** The cluster's `proxy-url`: every request to it goes through this proxy, whatever the environment says. */
  proxyUrl?: URL;
  clientCert?: Buffer;
  clientKey?: Buffer;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  /** Impersonation, from the kubeconfig user or the --as flags (the flags win, as in kubectl). */
  impersonate?: Impersonation;
  /** An exec credential plugin (client.authentication.k8s.io), run by exec-plugin.ts; absent when a token wins. */
  exec?: ExecPluginConfig;
  /** The user's `auth-provider` ({name, config}) and the file it came from (refreshed tokens go back there). */
  authProvider?: { name: string; config?: Record<string, string>; file?: string };
  inCluster: boolean;
}

/** The kubeconfig's `exec` section, checked and defaulted as client-go's loader does. */
export interface ExecPluginConfig {
  apiVersion: string;
  /** As written in the kubeconfig, for messages. */
  command: string;
  /** What is spawned: a relative path with a separator resolved against the kubeconfig's directory (client-go). */
  resolvedCommand: string;
  args: string[];
  env: { name: string; value: string }[];
  installHint?: string;
  provideClusterInfo: boolean;
  interactiveMode: 'Never' | 'IfAvailable' | 'Always';
  /** The cluster's extensions["client.authentication.k8s.io/exec"], sent as spec.cluster.config. */
  clusterConfig?: unknown;
  proxyUrl?: string;
}

interface Impersonation {
  user?: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export interface LoadOptions {
  kubeconfig?: string;
  context?: string;
  /** --as, --as-group, --as-uid. */
  as?: string;
  asGroups?: string[];
  asUid?: string;
  env: NodeJS.ProcessEnv;
}

/** Go's yaml (YAML 1.1) reads these as booleans; js-yaml (YAML 1.2) leaves all but true/false as strings. */
const yaml11True = new Set(['true', 'True', 'TRUE', 'yes', 'Yes', 'YES', 'y', 'Y', 'on', 'On', 'ON']);
function isTrue(value: unknown): boolean {
  return value === true || (typeof value === 'string' && yaml11True.has(value));
}

const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

function kubeconfigPaths(options: LoadOptions): string[] {
  if (options.kubeconfig) return [resolve(options.kubeconfig)];
  const fromEnv = options.env.KUBECONFIG;
  if (fromEnv) return fromEnv.split(delimiter).filter(Boolean).map((path) => resolve(path));
  return [join(options.env.HOME ?? homedir(), '.kube', 'config')];
}

/** Every context name the kubeconfig files define, in first-wins order, for shell completion; unreadable files add none. */
export function kubeconfigContextNames(options: LoadOptions): string[] {
  const found = new Set<string>();
  for (const path of kubeconfigPaths(options)) {
    try {
      const doc = parseYaml(readFileSync(path, 'utf8'), { json: true }) as { contexts?: { name?: unknown }[] } | null;
      for (const entry of doc?.contexts ?? []) if (typeof entry?.name === 'string' && entry.name) found.add(entry.name);
    } catch {
      // Completion must never fail the shell: a missing or broken file simply offers nothing.
    }
  }
  return [...found];
}

export function loadKubeConfig(options: LoadOptions): ResolvedKubeConfig {
  const paths = kubeconfigPaths(options);
  const existing = paths.filter((path) => existsSync(path));
  if (options.kubeconfig && existing.length === 0) {
    throw new CliError(`kubeconfig ${options.kubeconfig} does not exist`, {
      hint: 'Pass the path of an existing kubeconfig, or start a local cluster with `sympozium dev up`.',
      exitCode: ExitCode.usage,
    });
  }
  if (existing.length === 0) {
    if (options.env.KUBERNETES_SERVICE_HOST && existsSync(join(serviceAccountDir, 'token'))) return inClusterConfig(options.env);
    throw new CliError('no kubeconfig found', {
      hint: `Looked at ${paths.join(', ')}. Set KUBECONFIG or pass --kubeconfig, or try the local control plane: sympozium dev up && eval "$(sympozium dev env)"`,
    });
  }

  // Merge like kubectl: the first file to define a name wins, and so does the first current-context.
  const clusters = new Map<string, NamedCluster>();
  const users = new Map<string, NamedUser>();
  const contexts = new Map<string, NamedContext>();
  const fileOf = new Map<object, string>();
  let currentContext: string | undefined;
  for (const path of existing) {
    let doc: Record<string, unknown>;
    try {
      // `json: true` lets a later duplicate key win instead of rejecting the file, as Go's yaml does for kubectl.
      doc = (parseYaml(readFileSync(path, 'utf8'), { json: true }) ?? {}) as Record<string, unknown>;
    } catch (error) {
      throw new CliError(`kubeconfig ${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, {
        hint: 'Fix the file, or point KUBECONFIG at another one.',
      });
    }
    for (const entry of (doc.clusters as NamedCluster[] | undefined) ?? []) {
      if (entry?.name && !clusters.has(entry.name)) {
        clusters.set(entry.name, entry);
        fileOf.set(entry, path);
      }
    }
    for (const entry of (doc.users as NamedUser[] | undefined) ?? []) {
      if (entry?.name && !users.has(entry.name)) {
        users.set(entry.name, entry);
        fileOf.set(entry, path);
      }
    }
    for (const entry of (doc.contexts as NamedContext[] | undefined) ?? []) {
      if (entry?.name && !contexts.has(entry.name)) contexts.set(entry.name, entry);
    }
    currentContext ??= (doc['current-context'] as string | undefined) || undefined;
  }

  const contextName = options.context ?? currentContext;
  if (!contextName) {
    throw new CliError('the kubeconfig has no current context', {
      hint: `Pick one with --context <name> (known: ${[...contexts.keys()].join(', ') || 'none'}) or \`kubectl config use-context <name>\`.`,
    });
  }
  const context = contexts.get(contextName);
  if (!context) {
    throw new CliError(`context "${contextName}" is not in the kubeconfig`, {
      hint: `Known contexts: ${[...contexts.keys()].join(', ') || 'none'}. Check --context, or run \`kubectl config get-contexts\`.`,
      // A mistyped --context is bad input; a current-context naming nothing is a broken kubeconfig.
      exitCode: options.context ? ExitCode.usage : ExitCode.failed,
    });
  }
  const clusterEntry = clusters.get(context.context?.cluster ?? '');
  if (!clusterEntry) {
    throw new CliError(`context "${contextName}" names cluster "${context.context?.cluster}", which the kubeconfig does not define`, {
      hint: 'Fix the kubeconfig (`kubectl config view`), or choose another --context.',
    });
  }
  const userEntry = users.get(context.context?.user ?? '');
  const cluster = clusterEntry.cluster ?? {};
  const user = userEntry?.user ?? {};
  const clusterDir = dirname(fileOf.get(clusterEntry)!);
  const userDir = userEntry ? dirname(fileOf.get(userEntry)!) : clusterDir;

  let server = String(cluster.server ?? '').replace(/\/+$/, '');
  if (!server) {
    throw new CliError(`cluster "${clusterEntry.name}" has no server address in the kubeconfig`, {
      hint: 'Fix the kubeconfig, or choose another --context.',
    });
  }
  const ca = dataOrFile(cluster['certificate-authority-data'], cluster['certificate-authority'], clusterDir);
  const clientCert = dataOrFile(user['client-certificate-data'], user['client-certificate'], userDir);
  const clientKey = dataOrFile(user['client-key-data'], user['client-key'], userDir);
  const insecure = isTrue(cluster['insecure-skip-tls-verify']);
  // A bare host:port is http:// to kubectl v1.32, whatever TLS material the kubeconfig has (checked with -v=6:
  // `server: 127.0.0.1:6443` with a CA, a client certificate or insecure all GET http://127.0.0.1:6443).
  const serverWithoutScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? undefined : server;
  if (serverWithoutScheme) server = `http://${server}`;
  const refuse = (reason: string) =>
    new CliError(`kubeconfig context "${contextName}" is invalid: ${reason}`, { hint: 'Fix the kubeconfig: kubectl refuses it for the same reason.', exitCode: ExitCode.usage });
  if (insecure && ca && server.startsWith('https://')) {
    throw refuse('specifying a root certificates file with the insecure flag is not allowed');
  }
  const token = typeof user.token === 'string' && user.token ? user.token : undefined;
  const tokenFile = user.tokenFile ? resolveFrom(userDir, String(user.tokenFile)) : undefined;
  // kubectl's wording (client-go's validateAuthInfo), so the message can be searched for.
  const userName = userEntry?.name ?? '';
  if ((token || tokenFile) && (user.username !== undefined || user.password !== undefined)) {
    throw refuse(`more than one authentication method found for ${userName}; found [token basicAuth], only one is allowed`);
  }
  if (clientCert && !clientKey) throw refuse(`client-key-data or client-key must be specified for ${userName} to use the clientCert authentication method`);
  if (clientKey && !clientCert) throw refuse(`client-certificate-data or client-certificate must be specified for ${userName} to use the clientCert authentication method`);
  let proxyUrl: URL | undefined;
  if (typeof cluster['proxy-url'] === 'string' && cluster['proxy-url']) {
    const parsed = parseProxyUrl(cluster['proxy-url'], clusterEntry.name);
    if (!(parsed instanceof URL)) throw refuse(parsed.error);
    proxyUrl = parsed;
  }
  const impersonate = impersonationOf(user, options, userEntry?.name ?? '');
  const staticToken = Boolean(token || tokenFile);
  if (user.exec && user['auth-provider']) throw refuse(`authProvider cannot be provided in combination with an exec plugin for ${userEntry?.name}`);
  // kubectl checks the exec section even beside a token (validateAuthInfo), but a static token wins: never run then.
  const execSpec = user.exec ? execPluginOf(user.exec as Record<string, unknown>, cluster, userEntry?.name ?? '', userDir) : undefined;
  const exec = staticToken ? undefined : execSpec;
  const provider = user['auth-provider'] as { name?: unknown; config?: Record<string, unknown> } | undefined;
  const authProvider =
    provider && !staticToken
      ? { name: String(provider.name ?? ''), config: Object.fromEntries(Object.entries(provider.config ?? {}).map(([key, value]) => [key, String(value ?? '')])), file: fileOf.get(userEntry!) }
      : undefined;

  return {
    files: existing,
    contextName,
    clusterName: clusterEntry.name,
    userName: userEntry?.name ?? '',
    server,
    serverWithoutScheme,
    namespace: context.context?.namespace || 'default',
    namespaceFromContext: Boolean(context.context?.namespace),
    ca,
    insecureSkipTlsVerify: insecure,
    tlsServerName: (cluster['tls-server-name'] as string | undefined) || undefined,
    proxyUrl,
    clientCert,
    clientKey,
    // kubectl sends the token file's content when both are set: the file is the one that rotates.
    token: tokenFile ? undefined : token,
    tokenFile,
    username: user.username as string | undefined,
    password: user.password as string | undefined,
    impersonate,
    exec,
    authProvider,
    inCluster: false,
  };
}

const execApiVersions = new Set(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']);
const interactiveModes = new Set(['Never', 'IfAvailable', 'Always']);

/** client-go's validateAuthInfo for exec, its v1beta1 default (IfAvailable), and its resolution of a relative command. */
function execPluginOf(exec: Record<string, unknown>, cluster: Record<string, unknown>, userName: string, userDir: string): ExecPluginConfig {
  const invalid = (reason: string) =>
    new CliError(reason, { hint: 'Fix the exec section of the kubeconfig user (kubectl refuses it too).', exitCode: ExitCode.usage });
  const command = typeof exec.command === 'string' ? exec.command : '';
  const apiVersion = typeof exec.apiVersion === 'string' ? exec.apiVersion : '';
  if (!command) throw invalid(`command must be specified for ${userName} to use exec authentication plugin`);
  if (!apiVersion) throw invalid(`apiVersion must be specified for ${userName} to use exec authentication plugin`);
  let mode = typeof exec.interactiveMode === 'string' ? exec.interactiveMode : '';
  if (!mode && apiVersion === 'client.authentication.k8s.io/v1') {
    throw new CliError(`interactiveMode must be specified for ${userName} to use exec authentication plugin`, {
      hint: 'Add interactiveMode: Never (or IfAvailable, Always) to the exec section of the kubeconfig user; kubectl refuses it too.',
      exitCode: ExitCode.usage,
    });
  }
  mode ||= 'IfAvailable';
  if (!interactiveModes.has(mode)) throw invalid(`invalid interactiveMode for ${userName}: "${mode}"`);
  if (!execApiVersions.has(apiVersion)) throw invalid(`exec plugin: invalid apiVersion "${apiVersion}"`);
  const env = ((exec.env as { name?: unknown; value?: unknown }[] | null | undefined) ?? []).map((entry) => {
    if (typeof entry?.name !== 'string' || !entry.name) throw invalid(`env variable name must be specified for ${userName} to use exec authentication plugin`);
    return { name: entry.name, value: String(entry.value ?? '') };
  });
  const extensions = cluster.extensions as { name?: string; extension?: unknown }[] | undefined;
  return {
    apiVersion,
    command,
    // client-go's ResolveLocalPaths resolves exec.command only when it holds a separator: a bare name is PATH's.
    resolvedCommand: command.includes(sep) && !isAbsolute(command) ? join(userDir, command) : command,
    args: ((exec.args as unknown[] | null | undefined) ?? []).map(String),
    env,
    installHint: typeof exec.installHint === 'string' && exec.installHint ? exec.installHint : undefined,
    provideClusterInfo: isTrue(exec.provideClusterInfo),
    interactiveMode: mode as ExecPluginConfig['interactiveMode'],
    clusterConfig: extensions?.find((entry) => entry?.name === 'client.authentication.k8s.io/exec')?.extension,
    proxyUrl: typeof cluster['proxy-url'] === 'string' ? cluster['proxy-url'] : undefined,
  };
}

function impersonationOf(user: Record<string, unknown>, options: LoadOptions, userName: string): Impersonation | undefined {
  // As in kubectl's overrides, each flag replaces only its own field of the kubeconfig user's impersonation.
  const impersonation: Impersonation = {
    user: options.as || (user.as as string | undefined) || undefined,
    uid: options.asUid || (user['as-uid'] as string | undefined) || undefined,
    groups: options.asGroups?.length ? options.asGroups : ((user['as-groups'] as unknown[] | undefined) ?? []).map(String),
    extra: Object.fromEntries(
      Object.entries((user['as-user-extra'] as Record<string, unknown[]> | undefined) ?? {}).map(([key, values]) => [key, (values ?? []).map(String)]),
    ),
  };
  if (!impersonation.user && (impersonation.uid || impersonation.groups.length > 0 || Object.keys(impersonation.extra).length > 0)) {
    throw new CliError(`requesting uid, groups or user-extra for ${userName} without impersonating a user`, {
      hint: 'Add --as <user> (or `as:` in the kubeconfig user) alongside --as-group/--as-uid.',
      exitCode: ExitCode.usage,
    });
  }
  return impersonation.user ? impersonation : undefined;
}

function inClusterConfig(env: NodeJS.ProcessEnv): ResolvedKubeConfig {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const namespaceFile = join(serviceAccountDir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : 'default';
  return {
    files: [],
    contextName: 'in-cluster',
    clusterName: 'in-cluster',
    userName: 'service-account',
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    namespace,
    namespaceFromContext: true,
    ca: readFileSync(join(serviceAccountDir, 'ca.crt')),
    insecureSkipTlsVerify: false,
    // The projected token rotates: read it per request rather than once.
    tokenFile: join(serviceAccountDir, 'token'),
    inCluster: true,
  };
}

function resolveFrom(base: string, path: string): string {
  return isAbsolute(path) ? path : join(base, path);
}

function dataOrFile(data: unknown, file: unknown, base: string): Buffer | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file) {
    const path = resolveFrom(base, file);
    try {
      return readFileSync(path);
    } catch {
      throw new CliError(`kubeconfig refers to ${path}, which cannot be read`, { hint: 'Fix the path in the kubeconfig.' });
    }
  }
  return undefined;
}
