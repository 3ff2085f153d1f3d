import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../../src/kube/client.js';
import type { AgentRun } from '../../src/sympozium/types.js';
import { startDevCluster, type DevCluster } from '../support/dev-cluster.js';

/**
 * A server run that Failed stays Failed upstream: the instance controller creates one only when none exists
 * (sympoziuminstance_controller.go, ensureWebEndpointAgentRun). enable says so and --recreate recovers.
 */

let cluster: DevCluster;
let kube: KubeClient;
const cli = (args: string[], options: { input?: string; timeoutMs?: number } = {}) => cluster.cli(args, options);

beforeAll(async () => {
  cluster = await startDevCluster('sympozium-recreate-');
  kube = cluster.kube;
});
afterAll(async () => cluster?.stop());

const manifest = `apiVersion: v1
kind: Secret
metadata:
  name: broken-openai-key
stringData:
  OPENAI_API_KEY: sk-not-a-real-key
---
apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: broken
spec:
  agents:
    default:
      model: gpt-4.1
  authRefs:
    - provider: openai
      secret: broken-openai-key
  policyRef: team-policy
`;

describe('apply --wait', () => {
  it('fails naming each dependency whose absence fails every run, and only warns for a SkillPack upstream skips', async () => {
    const manifest = `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: lacking
spec:
  agents:
    default:
      model: gpt-4.1
  authRefs:
    - provider: openai
      secret: lacking-openai-key
  policyRef: strict-policy
  skills:
    - skillPackRef: no-such-pack
`;
    const result = await cli(['apply', '-f', '-', '--wait', '--timeout', '20s'], { input: manifest });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('lacking: spec.policyRef: no SympoziumPolicy "strict-policy" in namespace default');
    expect(result.stderr).toContain('lacking: spec.authRefs[0].secret: no Secret "lacking-openai-key" in namespace default');
    expect(result.stderr).toMatch(/warning: lacking: spec\.skills\[0\]\.skillPackRef: no SkillPack "no-such-pack"/);
    expect(result.stderr).toContain('lacking is reconciled, but every run of it would fail: 2 missing dependencies');

    // doctor never passes while a run of an instance must fail, by name or for the whole namespace.
    const named = await cli(['doctor', 'lacking']);
    expect(named.code).toBe(1);
    expect(named.stdout).toMatch(/✖ fail {2}instance lacking: spec\.policyRef: no SympoziumPolicy "strict-policy"/);
    expect(named.stdout).toMatch(/! warn {2}instance lacking: spec\.skills\[0\]\.skillPackRef/);
    const all = await cli(['doctor', '-o', 'json']);
    expect(all.code).toBe(1);
    const report = JSON.parse(all.stdout) as { ok: boolean; checks: { name: string; status: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks.filter((check) => check.name === 'instance lacking').map((check) => check.status)).toEqual(['fail', 'fail', 'warn']);
    const typo = await cli(['doctor', 'lackng']);
    expect(typo.code).toBe(1);
    expect(typo.stdout).toContain('instance lackng');
  });
});

describe('a Failed server run', () => {
  it('is named with its error by enable, and --recreate --yes replaces it once the cause is fixed', async () => {
    expect((await cli(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    // The policy does not exist: upstream fails every run of the instance, the server run included.
    const first = await cli(['enable', 'web-endpoint', 'broken', '--timeout', '20s'], { timeoutMs: 30_000 });
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('policy "team-policy" not found');
    expect(first.stderr).toContain('sympozium enable web-endpoint broken --recreate');
    const failed = await kube.get<AgentRun>('/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns/broken-web-endpoint');
    expect(failed.status?.phase).toBe('Failed');
    const diagnosed = await cli(['doctor', 'broken']);
    expect(diagnosed.code).toBe(1);
    expect(diagnosed.stdout).toMatch(/✖ fail {2}instance broken web endpoint: server run broken-web-endpoint Failed: .*policy "team-policy" not found/);
    expect(diagnosed.stdout).toContain('sympozium enable web-endpoint broken --recreate');

    // Enabling again changes nothing while the Failed run exists, and says so at once.
    const again = await cli(['enable', 'web-endpoint', 'broken', '--timeout', '20s']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('the server run broken-web-endpoint of broken failed: policy validation failed');

    // Without a terminal, --recreate needs --yes.
    const unconfirmed = await cli(['enable', 'web-endpoint', 'broken', '--recreate']);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('Add --yes to confirm');

    await kube.create('/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziumpolicies', {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'SympoziumPolicy',
      metadata: { name: 'team-policy' },
      spec: { toolGating: { defaultAction: 'allow' } },
    });
    const recovered = await cli(['enable', 'web-endpoint', 'broken', '--recreate', '--yes', '--timeout', '30s'], { timeoutMs: 40_000 });
    expect(recovered.code, recovered.stderr).toBe(0);
    expect(recovered.stderr).toContain('Deleted the Failed server run broken-web-endpoint; the controller creates a new one.');
    const replaced = await kube.get<AgentRun>('/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns/broken-web-endpoint');
    expect(replaced.metadata.uid).not.toBe(failed.metadata.uid);
    expect(replaced.status?.phase).toBe('Serving');
    const doctor = await cli(['doctor', 'broken']);
    expect(doctor.stdout).toMatch(/✔ pass {2}instance broken: Serving; its policy and provider Secrets exist/);
    expect(doctor.stdout).toMatch(/✔ pass {2}instance broken web endpoint: server run broken-web-endpoint Serving, key Secret broken-web-proxy-key, not public/);
  }, 90_000);
});
