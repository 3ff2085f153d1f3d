/**
 * Shared harness for the conformance tests: each test file starts its own emulator on a random port, writes a
 * kubeconfig into a temp dir and runs the real kubectl with KUBECONFIG/KUBECACHEDIR (and HOME) pointing there.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../src/index.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

function findKubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'kubectl');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const KUBECTL = findKubectl();
export const HAS_KUBECTL = KUBECTL !== undefined;
if (!HAS_KUBECTL) console.log('kubectl is not on PATH: the kubectl conformance tests are skipped');

interface RunResult {
  rc: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr, as a user sees them. */
  out: string;
}

export interface Emulator {
  server: ApiServer;
  dir: string;
  kubeconfig: string;
  env: NodeJS.ProcessEnv;
  kubectl(args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult>;
  /** Starts kubectl in the background (for `get -w`, `port-forward`), collecting its output. */
  spawnKubectl(args: string[], opts?: { env?: NodeJS.ProcessEnv }): { child: ChildProcess; output: () => string; exited: Promise<number> };
  close(): Promise<void>;
}

export async function startEmulator(options: ApiServerOptions = {}): Promise<Emulator> {
  const server = await startApiServer(options);
  const dir = mkdtempSync(join(tmpdir(), 'emu-conf-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, server.kubeconfigYaml());
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    KUBECONFIG: kubeconfig,
    KUBECACHEDIR: join(dir, 'cache'),
  };
  const children = new Set<ChildProcess>();
  return {
    server,
    dir,
    kubeconfig,
    env,
    kubectl(args, opts = {}) {
      return new Promise((resolve) => {
        const child = execFile(
          KUBECTL ?? 'kubectl',
          args,
          { env: { ...env, ...opts.env }, timeout: opts.timeoutMs ?? 20_000, maxBuffer: 16 * 1024 * 1024 },
          (err, stdout, stderr) => {
            const rc = err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0;
            resolve({ rc, stdout, stderr, out: stdout + stderr });
          },
        );
        if (opts.input !== undefined) child.stdin!.end(opts.input);
        else child.stdin!.end();
      });
    },
    spawnKubectl(args, opts = {}) {
      const child = spawn(KUBECTL ?? 'kubectl', args, { env: { ...env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const exited = new Promise<number>((resolve) => child.on('exit', (code) => {
        children.delete(child);
        resolve(code ?? -1);
      }));
      return { child, output: () => output, exited };
    },
    async close() {
      for (const child of children) child.kill('SIGKILL');
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A raw HTTP(S) request to the emulator with its token, for checks below the client libraries. */
export async function api(server: ApiServer, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${server.token}`,
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

export const SI_PATH = '/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances';

export function si(name: string, spec: Record<string, unknown> = { model: 'gpt-4o', replicas: 1 }, labels: Record<string, string> = {}): Record<string, unknown> {
  return { apiVersion: 'sympozium.ai/v1alpha1', kind: 'SympoziumInstance', metadata: { name, labels }, spec };
}

export interface WatchEvent {
  type: string;
  object: any;
}

/** Opens a raw watch stream and collects its events until `stop()`; `ended` resolves when the server closes it. */
export function rawWatch(server: ApiServer, pathAndQuery: string, headers: Record<string, string> = {}): { events: WatchEvent[]; stop: () => void; ended: Promise<void>; status: Promise<number> } {
  const events: WatchEvent[] = [];
  const controller = new AbortController();
  let resolveStatus: (n: number) => void = () => {};
  const status = new Promise<number>((r) => (resolveStatus = r));
  const ended = (async () => {
    try {
      const res = await fetch(`${server.url}${pathAndQuery}`, { headers: { Authorization: `Bearer ${server.token}`, ...headers }, signal: controller.signal });
      resolveStatus(res.status);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, i);
          buffer = buffer.slice(i + 1);
          if (line.trim()) events.push(JSON.parse(line) as WatchEvent);
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  })();
  return { events, stop: () => controller.abort(), ended, status };
}
