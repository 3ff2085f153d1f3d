import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Release } from '../../src/sympozium/releases.js';
import { binPath, runBin } from '../support/bin.js';
import { startDevCluster, type DevCluster } from '../support/dev-cluster.js';

/**
 * The new user's whole path on each upstream release dev can be (issue 13's "tried as a new user would"): init,
 * apply --wait, enable (10 requests a minute, burst 2), key show, chat under a runs tail, runs, key rotate while other chats take
 * the tokens, disable, doctor. After every step, what the CLI said is compared with what the cluster shows, so no
 * step can report something that is not so.
 */

interface Step {
  code: number | null;
  stdout: string;
  stderr: string;
}

for (const release of ['v0.5.8', 'v0.10.46'] as Release[]) {
  describe(`a new user on Sympozium ${release}`, () => {
    let cluster: DevCluster;
    let work: string;
    const kind = release === 'v0.5.8' ? 'sympoziuminstances' : 'agents';
    const base = (plural: string, name = '') => `/apis/sympozium.ai/v1alpha1/namespaces/default/${plural}${name ? `/${name}` : ''}`;
    const cli = (args: string[], timeoutMs = 40_000): Promise<Step> => runBin(args, { env: { ...cluster.env(), OPENAI_API_KEY: 'sk-local-test' }, cwd: work, timeoutMs });

    beforeAll(async () => {
      cluster = await startDevCluster(`sympozium-newuser-${release}-`, { release });
      work = mkdtempSync(join(tmpdir(), 'sympozium-newuser-work-'));
    });
    afterAll(async () => {
      await cluster?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('init -> apply --wait -> enable -> key show -> chat under runs tail -> runs -> key rotate under load -> disable, each claim true', async () => {
      const init = await cli(['init', 'demo', '--api-key-env', 'OPENAI_API_KEY', '--yes', '--out', join(work, 'demo.yaml')]);
      expect(init.code, init.stderr).toBe(0);
      const applied = await cli(['apply', '-f', join(work, 'demo.yaml'), '--wait']);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout + applied.stderr).toMatch(/demo is Running/);
      const instance = await cluster.kube.get<{ status?: { phase?: string }; metadata: { finalizers?: string[] } }>(base(kind, 'demo'));
      expect(instance.status?.phase).toBe('Running');

      const enabled = await cli(['enable', 'web-endpoint', 'demo', '--rpm', '10', '--burst', '2']);
      expect(enabled.code, enabled.stderr).toBe(0);
      expect(enabled.stdout + enabled.stderr).toContain('is serving');
      const server = await cluster.kube.get<{ status?: { phase?: string } }>(base('agentruns', 'demo-web-endpoint'));
      expect(server.status?.phase).toBe('Serving');

      const shown = await cli(['key', 'show', 'demo']);
      expect(shown.code, shown.stderr).toBe(0);
      const secret = await cluster.kube.get<{ data: Record<string, string> }>('/api/v1/namespaces/default/secrets/demo-web-proxy-key');
      const key = Buffer.from(secret.data['api-key']!, 'base64').toString('utf8');
      expect(shown.stdout).toContain(key.slice(-4));
      expect(shown.stdout + shown.stderr).not.toContain(key);

      // A runs tail started before the chat sees its run through to the phase the cluster ends with.
      const tail = spawn(process.execPath, [binPath, 'runs', 'tail', 'demo', '-o', 'json'], { cwd: work, env: { ...process.env, ...cluster.env() } });
      let tailed = '';
      tail.stdout.setEncoding('utf8').on('data', (chunk) => (tailed += chunk));
      // Its first line (the serving run) means it has listed and is watching: a chat that ends before that
      // would be a run tail never had to see.
      for (let i = 0; i < 200 && !tailed.includes('\n'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(tailed, 'runs tail printed nothing in 10 s').toContain('demo-web-endpoint');
      const chat = await cli(['chat', 'demo', 'hello there']);
      expect(chat.code, chat.stderr).toBe(0);
      expect(chat.stdout).toContain('You asked: hello there');
      const named = /run (demo-web-\S+) · (\w+)(?: · \S+ · (\d+) tokens)?/.exec(chat.stderr);
      expect(named, chat.stderr).toBeTruthy();
      const run = await cluster.kube.get<{ status?: { phase?: string; tokenUsage?: { totalTokens?: number } }; spec: Record<string, unknown> }>(base('agentruns', named![1]!));
      // What chat said of the run is what the cluster holds.
      expect(run.status?.phase).toBe(named![2]);
      if (named![3]) expect(run.status?.tokenUsage?.totalTokens).toBe(Number(named![3]));
      expect(run.spec[release === 'v0.5.8' ? 'instanceRef' : 'agentRef']).toBe('demo');

      const lines = async () => (tailed.trim() ? tailed.trim().split('\n').map((line) => JSON.parse(line) as { run: string; phase: string; tokens?: number }) : []);
      for (let i = 0; i < 100 && !(await lines()).some((line) => line.run === named![1] && line.phase === run.status?.phase); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      tail.kill('SIGINT');
      const seen = (await lines()).filter((line) => line.run === named![1]);
      expect(seen.at(-1), tailed).toMatchObject({ phase: run.status?.phase, ...(run.status?.tokenUsage?.totalTokens ? { tokens: run.status.tokenUsage.totalTokens } : {}) });
      const done = await cli(['runs', 'tail', '--run', named![1]!, '--until-done', '--timeout', '20s']);
      expect(done.code, done.stderr).toBe(run.status?.phase === 'Succeeded' ? 0 : 1);

      const listed = await cli(['runs', 'list', '--instance', 'demo', '-o', 'json']);
      expect(listed.code, listed.stderr).toBe(0);
      const runs = (JSON.parse(listed.stdout) as { items: { metadata: { name: string }; status?: { phase?: string } }[] }).items;
      expect(runs.find((item) => item.metadata.name === named![1])?.status?.phase).toBe(run.status?.phase);

      // Rotation while two other chats spend the small budget: it must prove the new key and never say "failed"
      // once the key is rotated.
      const traffic = [cli(['chat', 'demo', 'traffic one'], 90_000), cli(['chat', 'demo', 'traffic two'], 90_000)];
      const rotated = await cli(['key', 'rotate', 'demo', '--yes'], 120_000);
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.stdout + rotated.stderr).toMatch(/rotated the API key of demo/);
      const after = await cluster.kube.get<{ data: Record<string, string> }>('/api/v1/namespaces/default/secrets/demo-web-proxy-key');
      const newKey = Buffer.from(after.data['api-key']!, 'base64').toString('utf8');
      expect(newKey).not.toBe(key);
      expect(rotated.stdout).toContain(newKey.slice(-4));
      await Promise.all(traffic);
      const old = await cli(['chat', 'demo', 'with the old key', '--key', key], 90_000);
      expect(old.code).toBe(1);
      expect(old.stderr).toMatch(/401|invalid API key|rejected the API key/i);

      const disabled = await cli(['disable', 'web-endpoint', 'demo']);
      expect(disabled.code, disabled.stderr).toBe(0);
      expect(await cluster.kube.getOrUndefined(base('agentruns', 'demo-web-endpoint'))).toBeUndefined();

      const doctor = await cli(['doctor', 'demo']);
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(/pass\s+instance demo: Running/);
    }, 240_000);
  });
}
