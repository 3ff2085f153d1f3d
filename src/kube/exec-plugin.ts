import { spawn } from 'node:child_process';
import { createSecureContext } from 'node:tls';
import { isatty } from 'node:tty';
import { load as parseYaml } from 'js-yaml';
import { CliError } from '../errors.js';
import type { ExecPluginConfig, ResolvedKubeConfig } from './config.js';

/**
 * Exec credential plugins (client.authentication.k8s.io v1 and v1beta1), run as client-go's exec authenticator
 * runs them (k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go, refreshCredsLocked and isInteractive):
 * KUBERNETES_EXEC_INFO carries an ExecCredential whose spec says whether the plugin may talk to the user (and, with
 * provideClusterInfo, which cluster it is for); stdin is handed over only then; stderr is always the user's (device
 * codes, MFA prompts); stdout is the credential. The status is a token or a client certificate and key, cached for
 * this process until its expirationTimestamp. Loaded by client.ts only when the kubeconfig user has `exec`.
 */

export interface ExecCredential {
  token?: string;
  /** PEM, for the TLS connection (Teleport, some OIDC plugins). */
  cert?: string;
  key?: string;
  /** Epoch ms; undefined means valid until the server says 401. */
  expiresAt?: number;
}

export class ExecCredentialSource {
  private current?: Promise<ExecCredential>;
  private readonly plugin: ExecPluginConfig;

  constructor(
    private readonly config: ResolvedKubeConfig,
    private readonly env: NodeJS.ProcessEnv,
    /** --verbose: when the plugin ran and for how long (never what it returned). */
    private readonly debug: (message: string) => void = () => undefined,
  ) {
    this.plugin = config.exec!;
  }

  /** The cached credential, or a fresh one when there is none or it has expired (client-go's cachedCreds). */
  async get(): Promise<ExecCredential> {
    if (this.current) {
      const held = this.current;
      const credential = await held;
      if (credential.expiresAt === undefined || Date.now() < credential.expiresAt) return credential;
      if (this.current === held) this.current = undefined;
    }
    if (this.current) return this.current;
    // A failed run is not cached (the next request tries again, as client-go does); only this run is forgotten.
    const running: Promise<ExecCredential> = this.run().catch((error: unknown) => {
      if (this.current === running) this.current = undefined;
      throw error;
    });
    return (this.current = running);
  }

  /**
   * After a 401 with `used`: run the plugin again, unless another request has already done so since (client-go's
   * MaybeRefresh compares the credential the request carried), so concurrent 401s cost one run, not one each.
   */
  async refresh(used: ExecCredential): Promise<ExecCredential> {
    const held = this.current ? await this.current.catch(() => undefined) : undefined;
    if (held && held !== used) return held;
    this.current = undefined;
    return this.get();
  }

  private async run(): Promise<ExecCredential> {
    const plugin = this.plugin;
    const interactive = this.interactive();
    const spec: Record<string, unknown> = { interactive };
    if (plugin.provideClusterInfo) spec.cluster = this.clusterInfo();
    const execInfo = JSON.stringify({ kind: 'ExecCredential', apiVersion: plugin.apiVersion, spec });
    const env: NodeJS.ProcessEnv = { ...this.env };
    for (const { name, value } of plugin.env) env[name] = value;
    env.KUBERNETES_EXEC_INFO = execInfo;
    const started = Date.now();
    const { stdout, code, signal, stderrTail } = await this.spawnPlugin(env, interactive);
    this.debug(`exec plugin ${plugin.command} ran in ${Date.now() - started}ms (exit ${code ?? signal}, interactive ${interactive})`);
    if (code !== 0) {
      const how = signal ? `was killed by ${signal}` : `failed with exit code ${code}`;
      const which = plugin.resolvedCommand === plugin.command ? plugin.command : `${plugin.command} (${plugin.resolvedCommand})`;
      throw this.failure(`the exec plugin ${which} ${how}`, stderrTail, this.nextStep());
    }
    return this.parse(stdout);
  }

  /** client-go's isInteractive: Never, IfAvailable (a terminal on stdin), Always (a terminal, or refuse). */
  private interactive(): boolean {
    const terminal = isatty(0);
    if (this.plugin.interactiveMode === 'Never') return false;
    if (this.plugin.interactiveMode === 'IfAvailable') return terminal;
    if (!terminal) {
      throw this.failure('exec plugin cannot support interactive mode: standard input is not a terminal', undefined,
        `The plugin ${this.plugin.command} has interactiveMode: Always: run the command in a terminal, or log in there first (kubectl refuses it too).`);
    }
    return true;
  }

  /** client-go's clientauthentication.Cluster, from the same kubeconfig cluster (field names as in its v1 JSON). */
  private clusterInfo(): Record<string, unknown> {
    const { config, plugin } = this;
    const cluster: Record<string, unknown> = { server: config.server };
    if (config.tlsServerName) cluster['tls-server-name'] = config.tlsServerName;
    if (config.insecureSkipTlsVerify) cluster['insecure-skip-tls-verify'] = true;
    if (config.ca) cluster['certificate-authority-data'] = config.ca.toString('base64');
    if (plugin.proxyUrl) cluster['proxy-url'] = plugin.proxyUrl;
    if (plugin.clusterConfig !== undefined) cluster.config = plugin.clusterConfig;
    return cluster;
  }

  private spawnPlugin(env: NodeJS.ProcessEnv, interactive: boolean): Promise<{ stdout: string; code: number | null; signal: NodeJS.Signals | null; stderrTail?: string }> {
    const plugin = this.plugin;
    // On a terminal the plugin gets our stderr itself, as kubectl gives it os.Stderr (its prompts stay prompts);
    // elsewhere it is passed through line for line and its last lines kept for the error message.
    const stderrIsTerminal = isatty(2);
    return new Promise((resolve, reject) => {
      const child = spawn(plugin.resolvedCommand, plugin.args, {
        env,
        stdio: [interactive ? 'inherit' : 'ignore', 'pipe', stderrIsTerminal ? 'inherit' : 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr?.on('data', (chunk: Buffer) => {
        process.stderr.write(chunk);
        stderr = (stderr + chunk.toString('utf8')).slice(-4000);
      });
      child.on('error', (error: NodeJS.ErrnoException) => reject(this.spawnFailure(error)));
      child.on('close', (code, signal) => {
        const lines = stderr.trimEnd().split('\n').filter(Boolean).slice(-3);
        resolve({ stdout, code, signal, stderrTail: stderrIsTerminal ? '(its messages are above)' : lines.join('\n') || undefined });
      });
    });
  }

  private spawnFailure(error: NodeJS.ErrnoException): CliError {
    const plugin = this.plugin;
    if (error.code === 'ENOENT') {
      const where = plugin.resolvedCommand === plugin.command ? 'on PATH' : `at ${plugin.resolvedCommand}`;
      // kubectl prints the kubeconfig's installHint under "executable … not found"; so do we, as the next step.
      return this.failure(`exec: executable ${plugin.command} not found (looked ${where})`, undefined,
        plugin.installHint ?? `Install ${plugin.command}, or fix the exec command of user "${this.config.userName}" in the kubeconfig.`);
    }
    if (error.code === 'EACCES') {
      return this.failure(`exec: ${plugin.resolvedCommand} is not executable`, undefined, `Make it executable (chmod +x ${plugin.resolvedCommand}), or fix the kubeconfig.`);
    }
    return this.failure(`exec: ${plugin.command}: ${error.message}`, undefined, this.nextStep());
  }

  /** The checks of refreshCredsLocked, with its reasons; nothing of stdout is quoted (it may hold a token). */
  private parse(stdout: string): ExecCredential {
    const plugin = this.plugin;
    const bad = (reason: string) => this.failure(reason, undefined, this.nextStep());
    let credential: { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> } | undefined;
    try {
      credential = parseYaml(stdout, { json: true }) as typeof credential;
    } catch {
      credential = undefined;
    }
    if (!credential || typeof credential !== 'object') throw bad(`decoding stdout of the exec plugin ${plugin.command}: it is not an ExecCredential`);
    if (credential.kind !== 'ExecCredential' || credential.apiVersion !== plugin.apiVersion) {
      throw bad(`exec plugin is configured to use API version ${plugin.apiVersion}, plugin returned version ${String(credential.apiVersion ?? '(none)')}`);
    }
    const status = credential.status;
    if (!status || typeof status !== 'object') throw bad("exec plugin didn't return a status field");
    const token = typeof status.token === 'string' && status.token ? status.token : undefined;
    const cert = typeof status.clientCertificateData === 'string' && status.clientCertificateData ? status.clientCertificateData : undefined;
    const key = typeof status.clientKeyData === 'string' && status.clientKeyData ? status.clientKeyData : undefined;
    if (!token && !cert && !key) throw bad("exec plugin didn't return a token or cert/key pair");
    if (Boolean(cert) !== Boolean(key)) throw bad('exec plugin returned only certificate or key, not both');
    if (cert && key) {
      try {
        createSecureContext({ cert, key });
      } catch (error) {
        throw bad(`failed parsing client key/certificate: ${(error as Error).message}`);
      }
    }
    let expiresAt: number | undefined;
    if (typeof status.expirationTimestamp === 'string' && status.expirationTimestamp) {
      expiresAt = Date.parse(status.expirationTimestamp);
      if (Number.isNaN(expiresAt)) throw bad(`exec plugin returned an expirationTimestamp that is not a time: ${JSON.stringify(status.expirationTimestamp)}`);
    }
    this.debug(`exec plugin ${plugin.command} returned ${token ? 'a token' : 'a client certificate'}${expiresAt === undefined ? '' : `, valid until ${new Date(expiresAt).toISOString()}`}`);
    return { token, cert, key, expiresAt };
  }

  private nextStep(): string {
    return `Run \`${[this.plugin.command, ...this.plugin.args].join(' ')}\` by hand to see why (log in again?), or fix the exec section of user "${this.config.userName}" in the kubeconfig.`;
  }

  /** Every exec failure says it is about credentials, for which context, with the plugin's own last words. */
  private failure(reason: string, stderrTail: string | undefined, hint: string): CliError {
    const said = !stderrTail ? '' : stderrTail.startsWith('(') ? ` ${stderrTail}` : `; its last words on stderr (shown above):\n  ${stderrTail.split('\n').join('\n  ')}`;
    return new CliError(`could not get credentials for context "${this.config.contextName}": ${reason}${said}`, { hint });
  }
}
