import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upstreamBuiltins, upstreamCrds, type Release } from '../../src/sympozium/releases.js';
import { startBareCluster, type BareCluster } from '../support/bare-cluster.js';
import { runBin } from '../support/bin.js';

/**
 * init, apply and validate --cluster against clusters of both Sympozium generations: the emulator with exactly
 * upstream's CRDs of v0.5.8 (SympoziumInstance) or v0.10.46 (Agent) installed, and no controller.
 */

const clusters: Partial<Record<Release, BareCluster>> = {};

async function clusterOf(release: Release): Promise<BareCluster> {
  const cluster = await startBareCluster(`sympozium-release-${release}-`, { crds: false });
  for (const crd of upstreamCrds(release)) await cluster.kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  await cluster.kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sympozium-system' } });
  return cluster;
}

beforeAll(async () => {
  [clusters['v0.5.8'], clusters['v0.10.46']] = await Promise.all([clusterOf('v0.5.8'), clusterOf('v0.10.46')]);
});
afterAll(async () => {
  await Promise.all(Object.values(clusters).map((cluster) => cluster.stop()));
});

function cli(release: Release, args: string[], input?: string) {
  const cluster = clusters[release]!;
  return runBin(args, { cwd: cluster.dir, input, env: { KUBECONFIG: cluster.kubeconfig, HOME: cluster.dir, SYMPOZIUM_API_KEY: '' } });
}

function kinds(text: string): string[] {
  return parseAllDocuments(text).map((doc) => (doc.toJS() as { kind: string }).kind);
}

const agent = (name: string) => `apiVersion: sympozium.ai/v1alpha1
kind: Agent
metadata:
  name: ${name}
spec:
  agents:
    default:
      model: gpt-4.1
`;
const instance = (name: string) => agent(name).replace('kind: Agent', 'kind: SympoziumInstance');

describe('init scaffolds the kind the cluster serves', () => {
  it('writes an Agent for a v0.10 cluster and a SympoziumInstance for a v0.5 one, and says why', async () => {
    const v10 = await cli('v0.10.46', ['init', 'demo', '--yes', '--out', '-']);
    expect(v10.code).toBe(0);
    expect(kinds(v10.stdout)).toEqual(['Secret', 'Agent']);
    expect(v10.stderr).toMatch(/writing an Agent: context ".*" \(https:\/\/127\.0\.0\.1:\d+\) serves that kind \(pass --kind to choose\)/);
    const v05 = await cli('v0.5.8', ['init', 'demo', '--yes', '--out', '-']);
    expect(kinds(v05.stdout)).toEqual(['Secret', 'SympoziumInstance']);
    expect(v05.stderr).toContain('writing a SympoziumInstance');
  });

  it('offline (no cluster answering) it writes a SympoziumInstance without complaint', async () => {
    const dir = clusters['v0.5.8']!.dir;
    const kubeconfig = join(dir, 'dead-kubeconfig');
    // A port nothing listens on: the connection is refused at once.
    writeFileSync(kubeconfig, readFileSync(clusters['v0.5.8']!.kubeconfig, 'utf8').replace(/127\.0\.0\.1:\d+/, '127.0.0.1:1'));
    const result = await runBin(['init', 'demo', '--yes', '--out', '-'], { cwd: dir, env: { KUBECONFIG: kubeconfig, HOME: dir } });
    expect(result.code).toBe(0);
    expect(kinds(result.stdout)).toEqual(['Secret', 'SympoziumInstance']);
    expect(result.stderr).not.toMatch(/refused|ECONNREFUSED|cluster|error/i);
  });

  it('--kind wins, with a warning when the cluster serves the other kind', async () => {
    const result = await cli('v0.10.46', ['init', 'demo', '--kind', 'SympoziumInstance', '--yes', '--out', '-']);
    expect(result.code).toBe(0);
    expect(kinds(result.stdout)).toEqual(['Secret', 'SympoziumInstance']);
    expect(result.stderr).toContain('serves Agent, not SympoziumInstance: apply will refuse this file there');
  });

  it('init --apply creates the instance on clusters of both releases', async () => {
    for (const release of ['v0.5.8', 'v0.10.46'] as const) {
      const result = await cli(release, ['init', `applied-${release.replace(/\./g, '-')}`, '--provider', 'ollama', '--yes', '--apply']);
      expect(result.code, result.stderr).toBe(0);
      const plural = release === 'v0.5.8' ? 'sympoziuminstances' : 'agents';
      const created = await clusters[release]!.kube.get<{ kind: string }>(`/apis/sympozium.ai/v1alpha1/namespaces/default/${plural}/applied-${release.replace(/\./g, '-')}`);
      expect(created.kind).toBe(release === 'v0.5.8' ? 'SympoziumInstance' : 'Agent');
    }
  });
});

describe('apply follows the cluster\'s generation', () => {
  it('refuses a SympoziumInstance on a v0.10 cluster before sending anything, naming the migrate command', async () => {
    const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sent-first\n---\n${instance('old-style')}`;
    const result = await cli('v0.10.46', ['apply', '-f', '-'], manifest);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SympoziumInstance is for Sympozium v0.5.8, but the cluster runs Sympozium v0.10 or later (it serves Agent)');
    expect(result.stderr).toContain('sympozium migrate -f - --out -');
    expect(result.stderr).toContain('nothing was applied');
    // All or nothing: the valid ConfigMap before it was not created either.
    expect(await clusters['v0.10.46']!.kube.getOrUndefined('/api/v1/namespaces/default/configmaps/sent-first')).toBeUndefined();
  });

  it('refuses an Agent and an agentRef AgentRun on a v0.5 cluster', async () => {
    const run = `apiVersion: sympozium.ai/v1alpha1\nkind: AgentRun\nmetadata:\n  name: r1\nspec:\n  agentRef: new-style\n  task: hello\n  model:\n    provider: openai\n    model: gpt-4.1\n    authSecretRef: s\n`;
    const result = await cli('v0.5.8', ['apply', '-f', '-'], `${agent('new-style')}---\n${run}`);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/<stdin>:\d+:\d+ +kind: Agent is for Sympozium v0\.10\.46, but the cluster runs Sympozium v0\.5/);
    expect(result.stderr).toMatch(/spec\.agentRef: an AgentRun with spec\.agentRef is for Sympozium v0\.10\.46/);
    expect(await clusters['v0.5.8']!.kube.getOrUndefined('/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns/r1')).toBeUndefined();
  });

  it("applies v0.10 Agents, agentRef AgentRuns and upstream's own SkillPacks on a v0.10 cluster", async () => {
    const skillPacks = upstreamBuiltins('v0.10.46').skillPacks;
    const manifests = [
      agent('new-style'),
      `apiVersion: sympozium.ai/v1alpha1\nkind: AgentRun\nmetadata:\n  name: r1\nspec:\n  agentRef: new-style\n  agentId: default\n  sessionKey: s1\n  task: hello\n  model:\n    provider: openai\n    model: gpt-4.1\n    authSecretRef: s\n`,
      ...skillPacks.map((pack) => JSON.stringify(pack)),
    ].join('\n---\n');
    const result = await cli('v0.10.46', ['apply', '-f', '-'], manifests);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('agent.sympozium.ai/new-style created');
    expect(result.stdout).toContain('agentrun.sympozium.ai/r1 created');
    expect(result.stdout).toContain('skillpack.sympozium.ai/web-endpoint created');
  });
});

describe('validate --cluster', () => {
  it('says what the cluster lacks as notes (exit 0): policy, provider Secret, SkillPack, the other generation', async () => {
    const manifest = `${instance('refs')}  policyRef: default\n  authRefs:\n    - provider: openai\n      secret: no-such-secret\n  skills:\n    - skillPackRef: no-such-pack\n`;
    const result = await cli('v0.10.46', ['validate', '--cluster', '-f', '-'], manifest);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('note: kind: SympoziumInstance is for Sympozium v0.5.8, but the cluster runs Sympozium v0.10 or later');
    const v05 = await cli('v0.5.8', ['validate', '--cluster', '-f', '-'], manifest);
    expect(v05.code, v05.stderr).toBe(0);
    expect(v05.stdout).toContain('note: spec.policyRef: no SympoziumPolicy "default" in namespace default: upstream looks only there and fails every run without it');
    expect(v05.stdout).toContain('note: spec.authRefs[0].secret: no Secret "no-such-secret" in namespace default');
    expect(v05.stdout).toContain('note: spec.skills[0].skillPackRef: no SkillPack "no-such-pack" in default or sympozium-system');
    expect(v05.stderr).toMatch(/valid \(the CRDs of context ".*" \(https:\/\/127\.0\.0\.1:\d+\) where it serves the kind, else the bundled ones\)/);
  });

  it('says nothing about references the documents themselves define', async () => {
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: own-key\nstringData:\n  OPENAI_API_KEY: x\n---\n${instance('own')}  authRefs:\n    - provider: openai\n      secret: own-key\n  skills:\n    - skillPackRef: skillpack-web-endpoint\n`;
    await clusters['v0.5.8']!.kube.create('/apis/sympozium.ai/v1alpha1/namespaces/sympozium-system/skillpacks', upstreamBuiltins('v0.5.8').skillPacks.find((pack) => (pack.metadata as { name: string }).name === 'web-endpoint'));
    const result = await cli('v0.5.8', ['validate', '--cluster', '-f', '-'], manifest);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('note:');
  });
});
