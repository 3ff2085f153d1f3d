import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileAtomic } from '../files/atomic-write.js';
import { join } from 'node:path';
import { defaultRelease, isRelease, type Release } from '../sympozium/releases.js';

/**
 * The background process of `sympozium dev up` (bundled as dist/dev-server.js), and the small file format it
 * shares with `sympozium dev`: in the state directory it writes `kubeconfig` (context sympozium-dev),
 * `server.json` (pid, address, start time; no credentials) once it is ready, appends to `dev.log`, and keeps
 * objects in `state.json` with --persist. It removes server.json when it stops.
 *
 *   node dist/dev-server.js --state-dir DIR [--port N] [--persist] [--release v0.5.8|v0.10.46]
 *
 * The release (default v0.5.8) chooses the CRDs, built-ins and controller behaviour; it is kept in access.json,
 * and a persisted state is only ever started again as the release that wrote it.
 *
 * Timings default to the `realistic` preset (the demo); SYMPOZIUM_DEV_TIMINGS=fast makes it quick for tests.
 */

export const devContext = 'sympozium-dev';

export interface DevServerInfo {
  pid: number;
  /** The API server's plain-HTTP address (for status checks). */
  url: string;
  /** The same port's HTTPS address: the one the kubeconfig names, and so the one to show users. */
  httpsUrl?: string;
  port: number;
  startedAt: string;
  stateDir: string;
  kubeconfig: string;
  logFile: string;
  persist: boolean;
  timings: string;
  /** The upstream Sympozium release it runs. */
  release: Release;
  /** The user's kubeconfig a `sympozium-dev` context was merged into, so `down` can remove it. */
  mergedInto?: string;
}

export const devFiles = (stateDir: string) => ({
  info: join(stateDir, 'server.json'),
  kubeconfig: join(stateDir, 'kubeconfig'),
  log: join(stateDir, 'dev.log'),
  state: join(stateDir, 'state.json'),
  /** The token and port, kept across down and up so clients holding the old kubeconfig carry on. */
  access: join(stateDir, 'access.json'),
});

interface Access {
  token: string;
  port: number;
  release: Release;
}

function readAccess(stateDir: string): Partial<Access> {
  try {
    const parsed = JSON.parse(readFileSync(devFiles(stateDir).access, 'utf8')) as Partial<Access>;
    return { token: typeof parsed.token === 'string' && /^[0-9a-f]{32,}$/.test(parsed.token) ? parsed.token : undefined, port: Number.isInteger(parsed.port) ? parsed.port : undefined, release: typeof parsed.release === 'string' && isRelease(parsed.release) ? parsed.release : undefined };
  } catch {
    return {};
  }
}

export function readDevServerInfo(stateDir: string): DevServerInfo | undefined {
  try {
    return JSON.parse(readFileSync(devFiles(stateDir).info, 'utf8')) as DevServerInfo;
  } catch {
    return undefined;
  }
}

/** The state dir's files hold the API token: 0600, replaced atomically, and only ever regular files. */
const privateFile = { mode: 0o600, overwrite: true, secret: true };

export function writeDevServerInfo(info: DevServerInfo): void {
  writeFileAtomic(devFiles(info.stateDir).info, `${JSON.stringify(info, null, 2)}\n`, privateFile);
}

/**
 * The release whose objects a persisted state holds, when there is one: the one access.json records, or v0.5.8
 * for a state written before the release was recorded (dev ran v0.5.8-shaped CRDs then).
 */
export function persistedRelease(stateDir: string): Release | undefined {
  if (!existsSync(devFiles(stateDir).state)) return undefined;
  return readAccess(stateDir).release ?? defaultRelease;
}

/** Why a persisted state cannot be started as this release (its objects belong to another), with the way out. */
export function releaseConflict(stateDir: string, release: Release): { message: string; hint: string } | undefined {
  const persisted = persistedRelease(stateDir);
  if (!persisted || persisted === release) return undefined;
  return {
    message: `the persisted state in ${stateDir} holds Sympozium ${persisted} objects; it cannot be started as ${release}.`,
    hint: `Start it with --release ${persisted}, or remove ${devFiles(stateDir).state} (its objects are lost) to start over with ${release}, or pick another --state-dir.`,
  };
}

export interface ServeDevOptions {
  stateDir: string;
  port?: number;
  persist: boolean;
  timings: 'fast' | 'realistic';
  /** Default: what a persisted state holds, else v0.5.8. */
  release?: Release;
  /** Stops the plane when aborted. */
  signal: AbortSignal;
  /** Called once the plane is ready and its files are written. */
  onReady?: (info: DevServerInfo) => void;
}

/** Runs the local control plane until the signal aborts; resolves after it has stopped and cleaned up. */
export async function serveDev(options: ServeDevOptions): Promise<void> {
  const files = devFiles(options.stateDir);
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  const { startLocalControlPlane } = await import('./index.js');
  // A restart keeps the token and, when it is still free, the port: a `runs tail` or kubectl watching the old
  // server reconnects to the new one instead of failing with "log in again".
  const previous = readAccess(options.stateDir);
  const release = options.release ?? (options.persist ? persistedRelease(options.stateDir) : undefined) ?? defaultRelease;
  const conflict = options.persist ? releaseConflict(options.stateDir, release) : undefined;
  if (conflict) throw new Error(`${conflict.message} ${conflict.hint}`);
  const start = (port: number | undefined) =>
    startLocalControlPlane({ port, token: previous.token, stateFile: options.persist ? files.state : undefined, timings: options.timings, logFile: files.log, release });
  let plane;
  try {
    plane = await start(options.port ?? previous.port);
  } catch (error) {
    if (options.port !== undefined || previous.port === undefined || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    plane = await start(undefined);
  }
  writeFileAtomic(files.access, `${JSON.stringify({ token: plane.apiServer.token, port: plane.apiServer.port, release })}\n`, privateFile);
  const info: DevServerInfo = {
    pid: process.pid,
    url: plane.url,
    httpsUrl: plane.apiServer.httpsUrl,
    port: plane.apiServer.port,
    startedAt: new Date().toISOString(),
    stateDir: options.stateDir,
    kubeconfig: files.kubeconfig,
    logFile: files.log,
    persist: options.persist,
    timings: options.timings,
    release,
  };
  try {
    writeFileAtomic(files.kubeconfig, plane.kubeconfigYaml({ contextName: devContext }), privateFile);
    writeDevServerInfo(info);
    options.onReady?.(info);
    if (!options.signal.aborted) await new Promise((resolve) => options.signal.addEventListener('abort', resolve, { once: true }));
  } finally {
    await plane.stop();
    // Only our own record: a newer server may have replaced it.
    if (readDevServerInfo(options.stateDir)?.pid === process.pid) rmSync(files.info, { force: true });
  }
}

function parseArgs(argv: string[]): { stateDir: string; port?: number; persist: boolean; release?: Release } {
  let stateDir: string | undefined;
  let release: Release | undefined;
  let port: number | undefined;
  let persist = false;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === '--state-dir') stateDir = argv[++index];
    else if (arg === '--port') port = Number(argv[++index]);
    else if (arg === '--persist') persist = true;
    else if (arg === '--release') {
      const value = argv[++index] ?? '';
      if (!isRelease(value)) throw new Error(`unknown release ${value}`);
      release = value;
    }
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!stateDir) throw new Error('--state-dir is required');
  return { stateDir, port, persist, release };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const abort = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => abort.abort());
  await serveDev({
    ...args,
    timings: process.env.SYMPOZIUM_DEV_TIMINGS === 'fast' ? 'fast' : 'realistic',
    signal: abort.signal,
    onReady: (info) => console.log(`${new Date().toISOString()} sympozium dev: ready at ${info.url} (pid ${info.pid})`),
  });
  console.log(`${new Date().toISOString()} sympozium dev: stopped`);
}

// Run only as the entry point: `sympozium dev up --foreground` imports this module for serveDev().
if (/dev-server\.(c|m)?[jt]s$/.test(process.argv[1] ?? '')) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(`${new Date().toISOString()} sympozium dev: failed: ${(error as Error).stack ?? error}`);
      process.exit(1);
    },
  );
}
