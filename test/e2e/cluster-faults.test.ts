import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { startApiServer, type ApiServer } from '@sympozium/kube-emulator';
import { upstreamCrds } from '../../src/sympozium/releases.js';
import { ensureBuilt, runBin } from '../support/bin.js';
import { follow } from './cluster-support.js';

/**
 * The built bin against the bare API emulator (no controller): the test plays the controller by writing
 * objects and status itself, so it can put the key Secret under every name the contract allows and inject
 * the faults a real cluster produces (dropped watches, 410 Expired, 409 Conflict, 500s, 403).
 */

const api = '/apis/sympozium.ai/v1alpha1/namespaces/default';
let server: ApiServer;
let bare: ApiServer;
let dir: string;
let kube: KubeClient;

const kubeconfigFor = (name: string, apiServer: ApiServer) => {
  const path = join(dir, name);
  writeFileSync(path, apiServer.kubeconfigYaml());
  return path;
};
let kubeconfig: string;
const cli = (args: string[], config = kubeconfig) => runBin(args, { env: { KUBECONFIG: config, HOME: dir, SYMPOZIUM_API_KEY: '' } });

const instance = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'SympoziumInstance',
  metadata: { name },
  spec: { agents: { default: { model: 'gpt-4.1' } }, skills: [{ skillPackRef: 'web-endpoint' }], ...spec },
});
const secret = (name: string, key: string, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, ...(labels ? { labels } : {}) },
  data: { 'api-key': Buffer.from(key).toString('base64') },
});
const run = (name: string, instanceName: string) => ({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'AgentRun',
  metadata: { name, labels: { 'sympozium.ai/instance': instanceName, 'sympozium.ai/source': 'web-proxy' } },
  spec: { instanceRef: instanceName, agentId: 'primary', sessionKey: 's', task: 'hi', model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: '' } },
});
const setPhase = (name: string, status: Record<string, unknown>) => kube.mergePatch(`${api}/agentruns/${name}/status`, { status });

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-cluster-faults-'));
  server = await startApiServer({ bookmarkIntervalMs: 200 });
  bare = await startApiServer();
  kubeconfig = kubeconfigFor('kubeconfig', server);
  kube = createKubeClient({ globals: { kubeconfig }, env: {} });
  for (const crd of upstreamCrds('v0.5.8')) await kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
});

afterAll(async () => {
  kube?.close();
  await server?.close();
  await bare?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => server.faults.clear());

describe('the key Secret under every name the contract allows', () => {
  const variants: [string, (name: string) => Promise<string>][] = [
    ['status.webEndpoint.authSecretName', async (name) => {
      await kube.mergePatch(`${api}/sympoziuminstances/${name}/status`, { status: { webEndpoint: { status: 'Ready', authSecretName: `${name}-from-status` } } });
      return `${name}-from-status`;
    }],
    ['the auth_secret_ref param', async (name) => {
      await kube.mergePatch(`${api}/sympoziuminstances/${name}`, { spec: { skills: [{ skillPackRef: 'web-endpoint', params: { auth_secret_ref: 'byo-key' } }] } });
      return 'byo-key';
    }],
    ['the deprecated spec.webEndpoint.authSecretRef', async (name) => {
      await kube.mergePatch(`${api}/sympoziuminstances/${name}`, { spec: { skills: [], webEndpoint: { enabled: true, authSecretRef: 'legacy-key' } } });
      return 'legacy-key';
    }],
    ["the seed's <instance>-web-endpoint-key", async (name) => `${name}-web-endpoint-key`],
    ["upstream's <instance>-web-proxy-key", async (name) => `${name}-web-proxy-key`],
    ["upstream docs' <run>-web-api-key", async (name) => `${name}-web-endpoint-web-api-key`],
    ['any Secret labelled for the instance and web-proxy', async () => 'some-other-name'],
  ];

  variants.forEach(([where, prepare], index) => {
    it(`finds it through ${where}`, async () => {
      const name = `keys${index}`;
      await kube.create(`${api}/sympoziuminstances`, instance(name));
      const secretName = await prepare(name);
      const key = `sk-${String(index).repeat(48)}`;
      await kube.create('/api/v1/namespaces/default/secrets', secret(secretName, key, { 'sympozium.ai/instance': name, 'sympozium.ai/component': 'web-proxy' }));
      const json = await cli(['key', 'show', name, '-o', 'json']);
      expect(json.stderr).toBe('');
      expect(JSON.parse(json.stdout)).toEqual({ secret: secretName, namespace: 'default', key: `sk-…${key.slice(-4)}` });
      const revealed = await cli(['key', 'show', name, '--reveal']);
      expect(revealed.stdout).toBe(`${key}\n`);
    });
  });

  it("prefers upstream's name (what its controller creates) over the seed's when both exist", async () => {
    await kube.create(`${api}/sympoziuminstances`, instance('both'));
    await kube.create('/api/v1/namespaces/default/secrets', secret('both-web-proxy-key', 'sk-upstream-0000000000'));
    await kube.create('/api/v1/namespaces/default/secrets', secret('both-web-endpoint-key', 'sk-seed-1111111111'));
    expect(JSON.parse((await cli(['key', 'show', 'both', '-o', 'json'])).stdout).secret).toBe('both-web-proxy-key');
  });

  it('says every place it looked, and never prints a key in an error', async () => {
    await kube.create(`${api}/sympoziuminstances`, instance('nokey'));
    await kube.create('/api/v1/namespaces/default/secrets', { ...secret('nokey-web-proxy-key', 'x'), data: { other: Buffer.from('sk-secret-value-9999').toString('base64') } });
    const result = await cli(['key', 'show', 'nokey']);
    expect(result.code).toBe(1);
    for (const place of ['status.webEndpoint.authSecretName', 'auth_secret_ref', 'nokey-web-endpoint-key', 'nokey-web-proxy-key', 'nokey-web-endpoint-web-api-key', 'sympozium.ai/instance=nokey,sympozium.ai/component=web-proxy']) {
      expect(result.stderr).toContain(place);
    }
    expect(result.stderr).toContain('exists but has no api-key data');
    expect(result.stderr).toContain('The web endpoint is enabled but no key Secret exists yet');
    expect(result.stderr).not.toContain('sk-secret-value');
  });
});

describe('faults the emulator injects', () => {
  it('runs tail survives dropped watches, a 500 and a 410 without missing or repeating a transition', async () => {
    await kube.create(`${api}/agentruns`, run('tail-a', 'tailer'));
    const watchPath = /\/agentruns$/;
    // Every watch is cut after one event (twice), then one fails with a 500, then one expires with 410.
    server.faults.add({ path: watchPath, watch: true, dropWatchAfterEvents: 1, times: 2 });
    server.faults.add({ path: watchPath, watch: true, respond: { status: 500, message: 'etcd is having a bad day' }, times: 1 });
    server.faults.add({ path: watchPath, watch: true, expireWatch: true, times: 1 });
    const tail = follow(['runs', 'tail', 'tailer', '-o', 'json', '--since', '1h'], { KUBECONFIG: kubeconfig, HOME: dir });
    const events = () => tail.lines.map((line) => JSON.parse(line) as { run: string; phase: string; vanished?: boolean; transition?: boolean; tokens?: number });
    const phases = () => events().filter((e) => e.transition !== false).map((e) => `${e.run}:${e.vanished ? 'vanished' : e.phase}`);
    const step = async (change: () => Promise<unknown>, expected: string) => {
      await change();
      await tail.waitFor(() => phases().includes(expected), expected);
    };
    await tail.waitFor(() => phases().includes('tail-a:Pending'), 'the initial Pending');
    await step(() => setPhase('tail-a', { phase: 'Running', startedAt: new Date().toISOString() }), 'tail-a:Running');
    await step(() => kube.create(`${api}/agentruns`, run('tail-b', 'tailer')), 'tail-b:Pending');
    await step(() => setPhase('tail-b', { phase: 'Running' }), 'tail-b:Running');
    await step(() => setPhase('tail-a', { phase: 'Succeeded', completedAt: new Date().toISOString(), tokenUsage: { inputTokens: 40, outputTokens: 2, totalTokens: 42, toolCalls: 0, durationMs: 5 } }), 'tail-a:Succeeded');
    // A status change within a phase (tokens only) is one object, marked as not a transition.
    await step(() => setPhase('tail-b', { tokenUsage: { inputTokens: 1, outputTokens: 0, totalTokens: 1, toolCalls: 0, durationMs: 1 } }), 'tail-b:Running');
    await tail.waitFor(() => events().some((e) => e.run === 'tail-b' && e.tokens === 1 && e.transition === false), 'the token update');
    await step(() => setPhase('tail-b', { phase: 'Failed', error: 'Job failed' }), 'tail-b:Failed');
    await step(() => kube.delete(`${api}/agentruns/tail-a`), 'tail-a:vanished');
    expect(await tail.interrupt()).toBe(130);
    expect(phases()).toEqual(['tail-a:Pending', 'tail-a:Running', 'tail-b:Pending', 'tail-b:Running', 'tail-a:Succeeded', 'tail-b:Failed', 'tail-a:vanished']);
    expect(events().filter((e) => e.transition === false).map((e) => `${e.run}:${e.phase}:${e.tokens}`)).toEqual(['tail-b:Running:1']);
    expect(server.faults.rules).toHaveLength(0);
  });

  it('--until-done exits with the run outcome', async () => {
    await kube.create(`${api}/agentruns`, run('done-ok', 'x'));
    await kube.create(`${api}/agentruns`, run('done-bad', 'x'));
    const ok = follow(['runs', 'tail', '--run', 'done-ok', '--until-done'], { KUBECONFIG: kubeconfig, HOME: dir });
    const bad = follow(['runs', 'tail', '--run', 'done-bad', '--until-done'], { KUBECONFIG: kubeconfig, HOME: dir });
    await ok.waitFor((lines) => lines.some((line) => line.includes('Pending')), 'ok to be Pending');
    await bad.waitFor((lines) => lines.some((line) => line.includes('Pending')), 'bad to be Pending');
    await setPhase('done-ok', { phase: 'Succeeded' });
    await setPhase('done-bad', { phase: 'Failed', error: 'agent container exited with code 3' });
    expect(await ok.exited).toBe(0);
    expect(await bad.exited).toBe(1);
    expect(bad.stderr()).toContain('run done-bad failed: agent container exited with code 3');
  });

  it('--run names a run that must exist (did-you-mean), unless --wait-for-create; --until-done takes --timeout', async () => {
    await kube.create(`${api}/agentruns`, run('typo-target', 'x'));
    const typo = await cli(['runs', 'tail', '--run', 'typo-targt', '--until-done']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('run "typo-targt" not found in namespace "default"');
    expect(typo.stderr).toContain('Did you mean "typo-target"?');

    const waited = await cli(['runs', 'tail', '--run', 'not-yet', '--until-done', '--wait-for-create', '--timeout', '1s']);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toContain('waiting for it (--wait-for-create)');
    expect(waited.stderr).toMatch(/run not-yet did not finish within 1(\.0)?s \(it was never created\)/);

    const noUntil = await cli(['runs', 'tail', '--timeout', '1s']);
    expect(noUntil.code).toBe(2);
    expect(noUntil.stderr).toContain('--timeout limits --until-done');

    const slow = await cli(['runs', 'tail', '--run', 'typo-target', '--until-done', '--timeout', '1s']);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toMatch(/run typo-target did not finish within 1(\.0)?s \(it is Pending\)/);
  });

  it('a 409 on the read-modify-write of spec.skills is retried, and a stream of them is reported', async () => {
    await kube.create(`${api}/sympoziuminstances`, instance('contended', { skills: [{ skillPackRef: 'memory' }] }));
    server.faults.add({ method: 'PATCH', path: `${api}/sympoziuminstances/contended`, respond: { status: 409, reason: 'Conflict', message: 'the object has been modified' }, times: 2 });
    const ok = await cli(['enable', 'web-endpoint', 'contended', '--no-wait']);
    expect(ok.stderr).not.toContain('error:');
    expect(ok.code).toBe(0);
    const skills = (await kube.get<{ spec: { skills: unknown[] } }>(`${api}/sympoziuminstances/contended`)).spec.skills;
    expect(skills).toEqual([{ skillPackRef: 'memory' }, { skillPackRef: 'web-endpoint' }]);

    server.faults.add({ method: 'PATCH', path: `${api}/sympoziuminstances/contended`, respond: { status: 409, reason: 'Conflict', message: 'the object has been modified' }, times: 50 });
    const stuck = await cli(['disable', 'web-endpoint', 'contended', '--no-wait']);
    expect(stuck.code).toBe(1);
    expect(stuck.stderr).toContain('kept changing while sympozium tried to update it');
  });

  it('a 500 is reported as the server failing, with what to do', async () => {
    server.faults.add({ method: 'GET', path: `${api}/agentruns`, watch: false, respond: { status: 500, message: 'etcdserver: request timed out' } });
    const result = await cli(['runs', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the API server failed: etcdserver: request timed out (HTTP 500)');
    expect(result.stderr).toContain('try again');
  });

  it('a 403 names the permission that is missing', async () => {
    await kube.create(`${api}/sympoziuminstances`, instance('guarded'));
    server.faults.add({ method: 'GET', path: '/api/v1/namespaces/default/secrets/', respond: { status: 403, reason: 'Forbidden', message: '' }, times: 10 });
    const result = await cli(['key', 'show', 'guarded']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('forbidden: cannot get secrets in namespace default');
    expect(result.stderr).toContain('kubectl auth can-i get secrets -n default');
  });

  it('a server-side apply conflict names the field and its manager; --force-conflicts takes it over', async () => {
    await kube.create(`${api}/sympoziuminstances`, instance('owned'), { fieldManager: 'kubectl-client-side-apply' });
    const file = join(dir, 'owned.yaml');
    writeFileSync(file, `apiVersion: sympozium.ai/v1alpha1\nkind: SympoziumInstance\nmetadata:\n  name: owned\nspec:\n  agents:\n    default:\n      model: gpt-4.1-mini\n`);
    const conflict = await cli(['apply', '-f', file]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('.spec.agents.default.model');
    expect(conflict.stderr).toContain('"kubectl-client-side-apply"');
    expect(conflict.stderr).toContain('--force-conflicts');
    const forced = await cli(['apply', '-f', file, '--force-conflicts']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe('sympoziuminstance.sympozium.ai/owned configured\n');
  });

  it('a cluster without Sympozium says so and how to get it', async () => {
    const config = kubeconfigFor('bare', bare);
    const listed = await cli(['instances', 'list'], config);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain('Sympozium is not installed');
    expect(listed.stderr).toContain('sympozium dev up');
    const doctor = await cli(['doctor'], config);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain('✖ fail  sympozium API');
    const run = await cli(['runs', 'get', 'some-run'], config);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('run "some-run" not found');
    expect(run.stderr).toContain('are the Sympozium CRDs installed?');
  });

  it('a v0.10 cluster that serves Agent instead of SympoziumInstance works the same', async () => {
    const v010 = await startApiServer();
    try {
      const config = kubeconfigFor('v010', v010);
      const client = createKubeClient({ globals: { kubeconfig: config }, env: {} });
      // v0.10.46's own CRDs: Agent instead of SympoziumInstance, AgentRun's spec.agentRef instead of instanceRef.
      for (const crd of upstreamCrds('v0.10.46')) await client.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
      await client.create(`${api}/agents`, { ...instance('agent1'), kind: 'Agent', spec: { agents: { default: { model: 'gpt-4.1' } } } });
      const { metadata: _m, ...rest } = run('agent1-run', 'agent1');
      await client.create(`${api}/agentruns`, { ...rest, metadata: { name: 'agent1-run' }, spec: { ...rest.spec, instanceRef: undefined, agentRef: 'agent1' } });
      client.close();
      const listed = await cli(['instances', 'list'], config);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/\nagent1\s+Pending\s+gpt-4\.1\s/);
      const enabled = await cli(['enable', 'web-endpoint', 'agent1', '--no-wait'], config);
      expect(enabled.code).toBe(0);
      const runs = await cli(['runs', 'list', '--instance', 'agent1', '-o', 'name'], config);
      expect(runs.stdout).toBe('agentrun.sympozium.ai/agent1-run\n');
      const doctor = await cli(['doctor'], config);
      expect(doctor.stdout).toContain('the cluster serves Agent (v0.10+)');
    } finally {
      await v010.close();
    }
  });

  it('exec-plugin credentials work (EKS/GKE style), an expired one is refreshed once, a failing plugin says what to run', async () => {
    const plugin = join(dir, 'exec-credential.cjs');
    writeFileSync(
      plugin,
      [
        `if (process.env.FAIL_PLUGIN) { console.error('token expired, run login'); process.exit(1); }`,
        // With STALE_ONCE the first token handed out has expired, as an EKS token does after 15 minutes.
        `const fs = require('node:fs'); const marker = process.env.STALE_ONCE;`,
        `const stale = marker && !fs.existsSync(marker); if (stale) fs.writeFileSync(marker, '1');`,
        `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: stale ? 'expired' : ${JSON.stringify(server.token)} } }));`,
      ].join('\n'),
    );
    const config = join(dir, 'exec');
    writeFileSync(
      config,
      server.kubeconfigYaml().replace(
        /^( *)token: .*$/m,
        (_line, indent: string) =>
          `${indent}exec:\n${indent}  apiVersion: client.authentication.k8s.io/v1\n${indent}  command: ${process.execPath}\n${indent}  args: [${JSON.stringify(plugin)}]\n${indent}  interactiveMode: Never`,
      ),
    );
    const ok = await cli(['runs', 'list', '-o', 'name'], config);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const refreshed = await runBin(['runs', 'list', '-o', 'name'], { env: { KUBECONFIG: config, HOME: dir, STALE_ONCE: join(dir, 'stale-once') } });
    expect(refreshed.stderr).toBe('');
    expect(refreshed.code).toBe(0);
    const failing = await runBin(['runs', 'list'], { env: { KUBECONFIG: config, HOME: dir, FAIL_PLUGIN: '1' } });
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('could not get credentials for context');
    expect(failing.stderr).toContain('exit code 1');
    expect(failing.stderr).toMatch(/Run `.*exec-credential.cjs` by hand to see why/);
  });

  it('rejected credentials (expired token) say to log in again', async () => {
    const config = join(dir, 'expired');
    writeFileSync(config, server.kubeconfigYaml().replace(/token: .*/, 'token: expired-token'));
    const result = await cli(['instances', 'list'], config);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rejected the credentials of context');
    expect(result.stderr).toContain('log in again');
  });

  it('an unreachable cluster is one line that says what to check', async () => {
    const config = join(dir, 'down');
    writeFileSync(config, bare.kubeconfigYaml().replace(/127\.0\.0\.1:\d+/, '127.0.0.1:1'));
    const result = await cli(['runs', 'list'], config);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reach the cluster at https:\/\/127\.0\.0\.1:1 .*connection refused/);
    expect(result.stderr).toContain('sympozium doctor');
  });
});
