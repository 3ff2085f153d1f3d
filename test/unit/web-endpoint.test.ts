import { describe, expect, it } from 'vitest';
import { tierOf } from '../../src/sympozium/apply.js';
import { keySecretCandidates } from '../../src/sympozium/api-key.js';
import type { SympoziumInstance } from '../../src/sympozium/types.js';
import { settingsToParams, webEndpointEnabled, withWebEndpointSkill, withoutWebEndpointSkill } from '../../src/sympozium/web-endpoint.js';

const instance = (spec: Partial<SympoziumInstance['spec']>, status?: SympoziumInstance['status']): SympoziumInstance => ({
  apiVersion: 'sympozium.ai/v1alpha1',
  kind: 'SympoziumInstance',
  metadata: { name: 'demo', namespace: 'default' },
  spec: { agents: { default: { model: 'gpt-4.1' } }, ...spec },
  status,
});

describe('editing spec.skills for the web endpoint', () => {
  it('adds the skill after the others, with only the params asked for', () => {
    const skills = [{ skillPackRef: 'k8s-ops', params: { CLUSTER: 'prod' } }, { skillPackRef: 'memory' }];
    expect(withWebEndpointSkill(skills, settingsToParams({ rpm: 120, hostname: 'demo.example.com' }))).toEqual([
      ...skills,
      { skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '120', hostname: 'demo.example.com' } },
    ]);
    expect(withWebEndpointSkill(undefined, {})).toEqual([{ skillPackRef: 'web-endpoint' }]);
  });

  it('is idempotent: the same settings again change nothing', () => {
    const skills = [{ skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '120', rate_limit_burst: '20' } }];
    expect(withWebEndpointSkill(skills, settingsToParams({ rpm: 120 }))).toBeUndefined();
    expect(withWebEndpointSkill(skills, {})).toBeUndefined();
  });

  it('updates params in place, keeping the ones not given, and accepts the legacy skill name', () => {
    const skills = [{ skillPackRef: 'memory' }, { skillPackRef: 'skillpack-web-endpoint', params: { rate_limit_rpm: '60', auth_secret_ref: 'mine' } }];
    expect(withWebEndpointSkill(skills, settingsToParams({ burst: 5 }))).toEqual([
      { skillPackRef: 'memory' },
      { skillPackRef: 'skillpack-web-endpoint', params: { rate_limit_rpm: '60', auth_secret_ref: 'mine', rate_limit_burst: '5' } },
    ]);
  });

  it('removes every web-endpoint skill and nothing else; nothing to remove is undefined', () => {
    expect(withoutWebEndpointSkill([{ skillPackRef: 'memory' }, { skillPackRef: 'web-endpoint' }, { skillPackRef: 'skillpack-web-endpoint' }])).toEqual([{ skillPackRef: 'memory' }]);
    expect(withoutWebEndpointSkill([{ skillPackRef: 'memory' }])).toBeUndefined();
  });

  it('reads enabled from the skill or the deprecated spec.webEndpoint', () => {
    expect(webEndpointEnabled(instance({ skills: [{ skillPackRef: 'web-endpoint' }] }))).toBe(true);
    expect(webEndpointEnabled(instance({ webEndpoint: { enabled: true } }))).toBe(true);
    expect(webEndpointEnabled(instance({ skills: [{ skillPackRef: 'memory' }] }))).toBe(false);
  });
});

describe('where the key Secret may be, in the contract order', () => {
  it('status, then the param, then the three conventional names', () => {
    const found = keySecretCandidates(
      instance({ skills: [{ skillPackRef: 'web-endpoint', params: { auth_secret_ref: 'byo' } }] }, { webEndpoint: { authSecretName: 'from-status' } }),
    );
    expect(found.candidates.map((candidate) => candidate.name)).toEqual(['from-status', 'byo', 'demo-web-proxy-key', 'demo-web-endpoint-key', 'demo-web-endpoint-web-api-key']);
  });

  it('looks at a name once even when two sources give it', () => {
    const found = keySecretCandidates(instance({ skills: [{ skillPackRef: 'web-endpoint' }] }, { webEndpoint: { authSecretName: 'demo-web-endpoint-key' } }));
    expect(found.candidates.map((candidate) => candidate.name)).toEqual(['demo-web-endpoint-key', 'demo-web-proxy-key', 'demo-web-endpoint-web-api-key']);
    expect(found.notSet).toEqual(['the auth_secret_ref param / spec.webEndpoint.authSecretRef (not set)']);
  });
});

describe('apply order', () => {
  it('namespaces, secrets, skill packs, policies, instances, runs, then the rest', () => {
    const kinds = ['Deployment', 'AgentRun', 'SympoziumInstance', 'SympoziumPolicy', 'SkillPack', 'ConfigMap', 'Secret', 'Namespace', 'Agent'];
    expect([...kinds].sort((a, b) => tierOf(a) - tierOf(b))).toEqual(['Namespace', 'ConfigMap', 'Secret', 'SkillPack', 'SympoziumPolicy', 'SympoziumInstance', 'Agent', 'AgentRun', 'Deployment']);
  });
});
