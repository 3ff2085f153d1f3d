import { describe, expect, it } from 'vitest';
import { deploymentProblem, deploymentReady, deploymentRolledOut, secretUsage, type Deployment } from '../../src/kube/deployments.js';

const deployment = (spec: Deployment['spec'], status: Deployment['status'], generation = 2): Deployment => ({
  metadata: { name: 'demo-web-endpoint-server', generation },
  spec,
  status,
});

describe('how a proxy sees its key Secret decides whether key rotate restarts it', () => {
  const template = (containers: unknown[], volumes: unknown[] = []) => ({ template: { spec: { containers, volumes } } }) as Deployment['spec'];
  it('env from secretKeyRef or envFrom: a restart is needed', () => {
    expect(secretUsage(deployment(template([{ name: 'proxy', env: [{ name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'k', key: 'api-key' } } }] }]), {}), 'k')).toBe('env');
    expect(secretUsage(deployment(template([{ name: 'proxy', envFrom: [{ secretRef: { name: 'k' } }] }]), {}), 'k')).toBe('env');
  });
  it('a mounted volume refreshes by itself; no reference means the proxy reads the API', () => {
    expect(secretUsage(deployment(template([{ name: 'proxy' }], [{ name: 'key', secret: { secretName: 'k' } }]), {}), 'k')).toBe('volume');
    expect(secretUsage(deployment(template([{ name: 'proxy', envFrom: [{ secretRef: { name: 'other' } }] }]), {}), 'k')).toBe('none');
  });
});

describe('Deployment readiness', () => {
  it('ready needs a ready replica; rolled out also needs the new generation and no old pods', () => {
    expect(deploymentReady(deployment({ replicas: 1 }, { readyReplicas: 0 }))).toBe(false);
    expect(deploymentReady(deployment({ replicas: 1 }, { readyReplicas: 1 }))).toBe(true);
    expect(deploymentRolledOut(deployment({ replicas: 1 }, { observedGeneration: 1, updatedReplicas: 1, readyReplicas: 1, replicas: 1 }))).toBe(false);
    expect(deploymentRolledOut(deployment({ replicas: 1 }, { observedGeneration: 2, updatedReplicas: 1, readyReplicas: 1, replicas: 2 }))).toBe(false);
    expect(deploymentRolledOut(deployment({ replicas: 1 }, { observedGeneration: 2, updatedReplicas: 1, readyReplicas: 1, replicas: 1 }))).toBe(true);
  });
  it('says why it is not ready in kubectl terms', () => {
    const problem = deploymentProblem(
      deployment({ replicas: 2 }, { readyReplicas: 1, conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'not enough' }, { type: 'Progressing', status: 'True' }] }),
    );
    expect(problem).toBe('1/2 ready; Available=False (MinimumReplicasUnavailable: not enough)');
  });
});
