import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { startLocalControlPlane, type LocalControlPlane } from '../../src/dev/index.js';
import type { AgentRun, SympoziumInstance } from '../../src/sympozium/types.js';
import { ensureBuilt, runBin } from '../support/bin.js';
import { follow } from './cluster-support.js';

/**
 * The whole life of a served instance, driven through the built bin against the local control plane:
 * apply -> Running -> enable web-endpoint -> Serving with a key -> key show/rotate -> a chat's run followed by
 * `runs tail` -> disable -> torn down -> delete.
 */

let plane: LocalControlPlane;
let dir: string;
let kubeconfig: string;
let kube: KubeClient;

const env = () => ({ KUBECONFIG: kubeconfig, HOME: dir, SYMPOZIUM_API_KEY: '' });
const cli = (args: string[], options: { input?: string; timeoutMs?: number } = {}) => runBin(args, { env: env(), ...options });

const manifest = (name: string) => `apiVersion: v1
kind: Secret
metadata:
  name: ${name}-openai-key
type: Opaque
stringData:
  OPENAI_API_KEY: sk-not-a-real-key
---
apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: ${name}
spec:
  agents:
    default:
      model: gpt-4.1
  authRefs:
    - provider: openai
      secret: ${name}-openai-key
  skills:
    - skillPackRef: memory
`;

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sympozium-cluster-'));
  plane = await startLocalControlPlane();
  kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, plane.kubeconfigYaml());
  kube = createKubeClient({ globals: { kubeconfig }, env: {} });
});

afterAll(async () => {
  kube?.close();
  await plane?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an instance from manifest to served API and back', () => {
  it('goes through apply, enable, key, runs tail, disable and delete', async () => {
    const file = join(dir, 'demo.yaml');
    writeFileSync(file, manifest('demo'));

    // apply: created, then unchanged; --wait returns once the controller has reconciled it and its dependencies exist.
    const applied = await cli(['apply', '-f', file, '--wait']);
    expect(applied.stderr).not.toContain('error:');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toBe('secret/demo-openai-key created\nsympoziuminstance.sympozium.ai/demo created\n');
    expect(applied.stderr).toContain('demo is Running (reconciled; its policy and provider Secrets exist)');
    const again = await cli(['apply', '-f', file]);
    expect(again.stdout).toBe('secret/demo-openai-key unchanged\nsympoziuminstance.sympozium.ai/demo unchanged\n');

    const listed = await cli(['instances', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+PHASE\s+MODEL\s+SKILLS\s+WEB ENDPOINT/);
    expect(listed.stdout).toMatch(/\ndemo\s+Running\s+gpt-4\.1\s+memory\s+off\s/);

    // enable: the skill is added next to memory (not replacing it), and the command returns once it serves.
    const enabled = await cli(['enable', 'web-endpoint', 'demo', '--rpm', '600', '--burst', '50', '--timeout', '30s'], { timeoutMs: 40_000 });
    expect(enabled.stderr).not.toContain('error:');
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toContain('The web endpoint of demo is serving.');
    expect(enabled.stdout).toContain('Key Secret:  demo-web-proxy-key');
    expect(enabled.stderr).toContain('sympozium chat demo "hello"');
    const instance = await kube.get<SympoziumInstance>('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/demo');
    expect(instance.spec.skills).toEqual([
      { skillPackRef: 'memory' },
      { skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '600', rate_limit_burst: '50' } },
    ]);
    const twice = await cli(['enable', 'web-endpoint', 'demo', '--rpm', '600', '--no-wait']);
    expect(twice.code).toBe(0);
    expect(twice.stderr).toContain('already enabled with these settings');

    // key show: masked, JSON, revealed for $(...).
    const shown = await cli(['key', 'show', 'demo']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^sk-…[0-9a-f]{4}\n$/);
    const revealed = (await cli(['key', 'show', 'demo', '--reveal'])).stdout;
    expect(revealed).toMatch(/^sk-[0-9a-f]{48}\n$/);
    const asJson = JSON.parse((await cli(['key', 'show', 'demo', '-o', 'json'])).stdout);
    expect(asJson).toEqual({ secret: 'demo-web-proxy-key', namespace: 'default', key: `sk-…${revealed.trim().slice(-4)}` });

    // runs tail follows a chat's run through its phases, one line per transition.
    const seen = plane.apiServer.requestLog.length;
    const tail = follow(['runs', 'tail', 'demo', '-o', 'json'], env());
    const human = follow(['runs', 'tail', 'demo'], env());
    // Chat only once both are watching, so the run's first phase is a live event for them.
    const watching = () => plane.apiServer.requestLog.slice(seen).filter((entry) => entry.path.endsWith('/agentruns') && entry.query.includes('watch=true')).length >= 2;
    for (let waited = 0; !watching() && waited < 15_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    const chat = await cli(['chat', 'demo', 'hello', '--no-stream']);
    expect(chat.code).toBe(0);
    const runName = (await kube.list<AgentRun>('/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns', { labelSelector: 'sympozium.ai/source=web-proxy' })).items[0]!.metadata.name;
    await tail.waitFor((lines) => lines.some((line) => line.includes('"Succeeded"')), 'the run to succeed');
    await human.waitFor((lines) => lines.some((line) => line.includes('Succeeded')), 'the run to succeed (table)');
    expect(await tail.interrupt()).toBe(130);
    expect(await human.interrupt()).toBe(130);
    const events = tail.lines.map((line) => JSON.parse(line) as { run: string; phase: string; tokens?: number; transition: boolean });
    const ofRun = events.filter((event) => event.run === runName);
    // JSON gives every status change; the transitions among them are exactly the run's phases.
    expect(ofRun.filter((event) => event.transition).map((event) => event.phase)).toEqual(['Pending', 'Running', 'Succeeded']);
    expect(ofRun.at(-1)!.tokens).toBeGreaterThan(0);
    expect(human.lines.filter((line) => line.includes(runName)).map((line) => line.split(/\s+/)[2])).toEqual(['Pending', 'Running', 'Succeeded']);

    const got = await cli(['runs', 'get', runName]);
    expect(got.stdout).toMatch(/Phase:\s+Succeeded/);
    expect(got.stdout).toMatch(/Task:\s+hello/);
    expect(got.stdout).toMatch(/Tokens:\s+\d+ total/);
    const done = await cli(['runs', 'tail', '--run', runName, '--until-done']);
    expect(done.code).toBe(0);

    // key rotate: a new key in the same Secret, the old one refused by the proxy.
    const rotated = await cli(['key', 'rotate', 'demo', '--timeout', '30s'], { timeoutMs: 40_000 });
    expect(rotated.stderr).not.toContain('error:');
    expect(rotated.code).toBe(0);
    expect(rotated.stderr).toContain('the proxy accepts the new key (it holds one key, so the old one no longer works)');
    const newKey = (await cli(['key', 'show', 'demo', '--reveal'])).stdout;
    expect(newKey).toMatch(/^sk-[0-9a-f]{48}\n$/);
    expect(newKey).not.toBe(revealed);
    const oldRefused = await cli(['chat', 'demo', 'hi', '--no-stream', '--key', revealed.trim()]);
    expect(oldRefused.code).toBe(1);

    const described = await cli(['instances', 'describe', 'demo']);
    expect(described.stdout).toMatch(/Web endpoint:\s+enabled/);
    expect(described.stdout).toMatch(/Key Secret:\s+demo-web-proxy-key/);
    expect(described.stdout).toContain(runName);

    // disable: the skill goes, memory stays, and the controller tears the endpoint down.
    const disabled = await cli(['disable', 'web-endpoint', 'demo', '--timeout', '30s'], { timeoutMs: 40_000 });
    expect(disabled.code).toBe(0);
    expect(disabled.stdout).toContain('disabled and torn down');
    const after = await kube.get<SympoziumInstance>('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/demo');
    expect(after.spec.skills).toEqual([{ skillPackRef: 'memory' }]);
    expect(await kube.getOrUndefined('/apis/apps/v1/namespaces/default/deployments/demo-web-endpoint-server')).toBeUndefined();
    const noKey = await cli(['key', 'show', 'demo']);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('The web endpoint is not enabled on demo');
    const disabledAgain = await cli(['disable', 'web-endpoint', 'demo', '-o', 'json']);
    expect(disabledAgain.code, disabledAgain.stderr).toBe(0);
    expect(JSON.parse(disabledAgain.stdout)).toEqual({ instance: 'demo', namespace: 'default', state: 'not-enabled' });

    const deleted = await cli(['instances', 'delete', 'demo']);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe('sympoziuminstance/demo deleted\n');
    const gone = await cli(['instances', 'get', 'demo']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('instance "demo" not found in namespace "default"');
  }, 120_000);
});

describe('what a new user gets wrong', () => {
  it('a context that does not exist names the ones that do', async () => {
    const result = await cli(['--context', 'prod', 'instances', 'list']);
    // A mistyped flag value is invalid input: exit 2, as CLI.md says.
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('context "prod" is not in the kubeconfig');
    expect(result.stderr).toContain('Known contexts: sympozium-local');
  });

  it('a namespace that does not exist is named, and where the instance really is', async () => {
    writeFileSync(join(dir, 'lost.yaml'), manifest('lost'));
    expect((await cli(['apply', '-f', join(dir, 'lost.yaml')])).code).toBe(0);
    const result = await cli(['-n', 'staging', 'instances', 'describe', 'lost']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('namespace "staging" does not exist');
    expect(result.stderr).toContain('pass -n default');
    const applied = await cli(['-n', 'staging', 'apply', '-f', join(dir, 'lost.yaml')]);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('namespace staging does not exist');
    expect(applied.stderr).toContain('nothing was applied');
    expect(applied.stderr).toContain('kubectl create namespace staging');
  });

  it('listing a namespace that does not exist says so instead of "no instances"', async () => {
    const result = await cli(['-n', 'nowhere', 'instances', 'list']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('namespace nowhere does not exist');
    expect(result.stderr).not.toContain('No instances');
  });

  it('an instance that does not exist says how to list or create one', async () => {
    for (const args of [['instances', 'get', 'ghost'], ['enable', 'web-endpoint', 'ghost'], ['key', 'show', 'ghost']]) {
      const result = await cli(args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('instance "ghost" not found in namespace "default"');
      expect(result.stderr).toContain('sympozium instances list -A');
    }
  });

  it('an invalid file is reported with its line and nothing is applied (exit 2)', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, `${manifest('badone')}  unknownField: true\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\nstringData:\n  a: b\n`);
    const result = await cli(['apply', '-f', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.yaml:\d+:\d+/);
    expect(result.stderr).toContain('unknownField');
    expect(result.stderr).toContain('nothing was applied');
    expect(await kube.getOrUndefined('/api/v1/namespaces/default/secrets/badone-openai-key')).toBeUndefined();
    expect(await kube.getOrUndefined('/api/v1/namespaces/default/secrets/extra')).toBeUndefined();
  });

  it('dry runs send nothing that sticks', async () => {
    const file = join(dir, 'dry.yaml');
    writeFileSync(file, manifest('dry'));
    const client = await cli(['apply', '-f', file, '--dry-run=client']);
    expect(client.code).toBe(0);
    expect(client.stdout).toContain('sympoziuminstance.sympozium.ai/dry created (dry run)');
    const server = await cli(['apply', '-f', file, '--dry-run=server']);
    expect(server.code).toBe(0);
    expect(server.stdout).toContain('sympoziuminstance.sympozium.ai/dry created (server dry run)');
    expect(await kube.getOrUndefined('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/dry')).toBeUndefined();
  });

  it('doctor passes on the local control plane, as JSON too', async () => {
    const result = await cli(['doctor']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✔ pass  instance kind: the cluster serves SympoziumInstance');
    expect(result.stdout).toContain('✔ pass  web-endpoint SkillPack');
    const json = JSON.parse((await cli(['doctor', '-o', 'json'])).stdout);
    expect(json.ok).toBe(true);
    expect(json.checks.map((check: { name: string }) => check.name)).toEqual(
      expect.arrayContaining(['cluster', 'instance kind', 'CRDs', 'controller', 'web-endpoint SkillPack', 'RBAC']),
    );
  });
});
