import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../src/sympozium/manifest-parse.js';
import { migrateFile, migrateObject, stripServerFields } from '../../src/sympozium/migrate.js';
import { applyToObject, planMigration } from '../../src/sympozium/migrate-plan.js';
import { formatProblem } from '../../src/sympozium/validate.js';

/** Migrates text as `sympozium migrate -f` does; returns the text and the problems as printed lines. */
function migrate(text: string, source = 'in.yaml') {
  const parsed = parseManifests(text, source);
  expect(parsed.problems.filter((problem) => problem.code !== 'not-an-object')).toEqual([]);
  const result = migrateFile(source, text, parsed.documents);
  return { text: result.text, problems: result.problems.map(formatProblem), documents: result.documents };
}

const instance = `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: demo
spec:
  agents:
    default:
      model: gpt-4.1
`;

describe('migrate: the mapping', () => {
  it('renames the kinds and the renamed fields, and nothing else', () => {
    const plan = planMigration({
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'PersonaPack',
      metadata: { name: 'team', labels: { 'sympozium.ai/persona-pack': 'team', 'sympozium.ai/persona': 'lead', app: 'x' } },
      spec: { personas: [{ name: 'lead', systemPrompt: 'p' }], excludePersonas: ['lead'] },
    });
    expect(plan.problems).toEqual([]);
    expect(plan.changes).toEqual([
      { op: 'set-value', path: ['kind'], from: 'PersonaPack', to: 'Ensemble' },
      { op: 'rename-key', path: ['spec', 'personas'], to: 'agentConfigs' },
      { op: 'rename-key', path: ['metadata', 'labels', 'sympozium.ai/persona-pack'], to: 'sympozium.ai/ensemble' },
      { op: 'rename-key', path: ['metadata', 'labels', 'sympozium.ai/persona'], to: 'sympozium.ai/agent-config' },
    ]);
    for (const kind of ['AgentRun', 'SympoziumSchedule']) {
      expect(planMigration({ apiVersion: 'sympozium.ai/v1alpha1', kind, metadata: { name: 'r' }, spec: { instanceRef: 'demo' } }).changes).toEqual([
        { op: 'rename-key', path: ['spec', 'instanceRef'], to: 'agentRef' },
      ]);
    }
  });

  it('leaves v0.10.46 objects, other groups and other versions alone', () => {
    for (const object of [
      { apiVersion: 'sympozium.ai/v1alpha1', kind: 'Agent', metadata: { name: 'a' } },
      { apiVersion: 'sympozium.ai/v1alpha1', kind: 'AgentRun', metadata: { name: 'a' }, spec: { agentRef: 'a' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a', labels: { 'sympozium.ai/persona-pack': 'team' } } },
      { apiVersion: 'example.com/v1', kind: 'SympoziumInstance', metadata: { name: 'a' } },
    ]) {
      expect(planMigration(object)).toEqual({ changes: [], problems: [] });
    }
  });

  it('renames finalizers, owner reference kinds and SkillPack RBAC resources of the group', () => {
    const skillPack = {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'SkillPack',
      metadata: {
        name: 'p',
        finalizers: ['sympozium.ai/personapack-finalizer'],
        ownerReferences: [{ apiVersion: 'sympozium.ai/v1alpha1', kind: 'SympoziumInstance', name: 'demo', uid: 'u' }, { apiVersion: 'v1', kind: 'PersonaPack', name: 'x', uid: 'v' }],
      },
      spec: {
        skills: [],
        sidecar: {
          image: 'i',
          rbac: [
            { apiGroups: ['sympozium.ai'], resources: ['sympoziuminstances', 'sympoziuminstances/status', 'agentruns'], verbs: ['get'] },
            { apiGroups: [''], resources: ['sympoziuminstances'], verbs: ['get'] },
          ],
          clusterRBAC: [{ apiGroups: ['*'], resources: ['personapacks'], verbs: ['list'] }],
        },
      },
    };
    const plan = planMigration(skillPack);
    const migrated = applyToObject(skillPack, plan.changes);
    expect(migrated.metadata.finalizers).toEqual(['sympozium.ai/ensemble-finalizer']);
    expect(migrated.metadata.ownerReferences.map((reference) => reference.kind)).toEqual(['Agent', 'PersonaPack']);
    expect(migrated.spec.sidecar.rbac.map((rule) => rule.resources)).toEqual([['agents', 'agents/status', 'agentruns'], ['sympoziuminstances']]);
    expect(migrated.spec.sidecar.clusterRBAC[0]!.resources).toEqual(['ensembles']);
    // The input is not changed.
    expect(skillPack.spec.sidecar.rbac[0]!.resources[0]).toBe('sympoziuminstances');
  });

  it('keeps key order when it renames', () => {
    const object = { apiVersion: 'sympozium.ai/v1alpha1', kind: 'AgentRun', metadata: { name: 'r' }, spec: { agentId: 'a', instanceRef: 'demo', task: 't' } };
    const migrated = applyToObject(object, planMigration(object).changes);
    expect(Object.keys(migrated.spec)).toEqual(['agentId', 'agentRef', 'task']);
  });

  it('calls a renamed field given under both names a value with no home', () => {
    const plan = planMigration({ apiVersion: 'sympozium.ai/v1alpha1', kind: 'AgentRun', metadata: { name: 'r' }, spec: { instanceRef: 'a', agentRef: 'b' } });
    expect(plan.changes).toEqual([]);
    expect(plan.problems).toEqual([
      { path: ['spec', 'instanceRef'], at: 'key', message: 'no home in v0.10.46 (it becomes spec.agentRef, which is set too: keep one of them)' },
    ]);
  });

  it('strips what the server set from live objects', () => {
    const live = {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'SympoziumInstance',
      metadata: {
        name: 'demo',
        namespace: 'team-a',
        uid: 'u',
        resourceVersion: '7',
        generation: 2,
        creationTimestamp: '2026-01-01T00:00:00Z',
        managedFields: [{}],
        labels: { team: 'a' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
        finalizers: ['sympozium.ai/finalizer', 'example.com/keep'],
        ownerReferences: [{ apiVersion: 'sympozium.ai/v1alpha1', kind: 'PersonaPack', name: 'p', uid: 'x' }],
      },
      spec: { agents: { default: { model: 'm' } } },
      status: { phase: 'Running' },
    };
    expect(stripServerFields(live)).toEqual({
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'SympoziumInstance',
      metadata: { name: 'demo', namespace: 'team-a', labels: { team: 'a' }, finalizers: ['example.com/keep'] },
      spec: { agents: { default: { model: 'm' } } },
    });
    const migrated = migrateObject(stripServerFields(live), 'team-a/SympoziumInstance/demo');
    expect(migrated.problems).toEqual([]);
    expect(migrated.object.kind).toBe('Agent');
    expect(migrated.report.migratedKind).toBe('Agent');
  });
});

describe('migrate: the text', () => {
  it('changes only the renamed tokens: comments, order, quoting and blank lines survive', () => {
    const text = `# the team
apiVersion: sympozium.ai/v1alpha1
kind: "PersonaPack"   # was a pack
metadata:
  name: team
  labels:
    'sympozium.ai/persona-pack': team

spec:
  # the members
  personas:   # one of them
    - name: lead
      systemPrompt: lead the team
---
apiVersion: v1
kind: ConfigMap
metadata: {name: untouched, labels: {sympozium.ai/persona-pack: team}}
---
{"apiVersion": "sympozium.ai/v1alpha1", "kind": "AgentRun", "metadata": {"name": "r"}, "spec": {"instanceRef": "team-lead", "agentId": "default", "sessionKey": "s", "task": "t", "model": {"provider": "openai", "model": "m", "authSecretRef": "k"}}}
`;
    const result = migrate(text);
    expect(result.problems).toEqual([]);
    expect(result.text).toBe(
      text
        .replace('kind: "PersonaPack"', 'kind: "Ensemble"')
        .replace("'sympozium.ai/persona-pack': team", "'sympozium.ai/ensemble': team")
        .replace('  personas:   #', '  agentConfigs:   #')
        .replace('"instanceRef": "team-lead"', '"agentRef": "team-lead"'),
    );
    expect(result.documents.map((document) => document.changes.length)).toEqual([3, 0, 1]);
    // Twice changes nothing.
    expect(migrate(result.text).text).toBe(result.text);
  });

  it('reports a value with no home at its place in the input, even after a rename on the same line', () => {
    const text = `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumSchedule
metadata: {name: s}
spec: {instanceRef: demo, schedule: "* * * * *", task: t, maxRuns: 3}
`;
    expect(migrate(text, 'flow.yaml').problems).toEqual([
      'flow.yaml:4:59  spec.maxRuns: no home in v0.10.46 (SympoziumSchedule has no field "maxRuns"; v0.5.8\'s SympoziumSchedule has no such field either)',
    ]);
    expect(migrate(`${instance}      maxTokens: 10\n`, 'demo.yaml').problems).toEqual([
      'demo.yaml:9:7  spec.agents.default.maxTokens: no home in v0.10.46 (Agent has no field "maxTokens"; v0.5.8\'s SympoziumInstance has no such field either)',
    ]);
  });

  it('names paths as the input has them', () => {
    const text = `apiVersion: sympozium.ai/v1alpha1
kind: PersonaPack
metadata:
  name: team
spec:
  personas:
    - name: lead
`;
    expect(migrate(text, 'pack.yaml').problems).toEqual([
      'pack.yaml:7:7  spec.personas[0].systemPrompt: invalid under v0.10.46: required (invalid under v0.5.8 too)',
    ]);
  });

  it('refuses to rewrite values that anchors or merge keys share, and block scalars', () => {
    const shared = `apiVersion: sympozium.ai/v1alpha1
kind: AgentRun
metadata:
  name: r
base: &base
  instanceRef: demo
spec:
  <<: *base
  agentId: a
`;
    expect(migrate(shared, 'merge.yaml').problems).toEqual([
      'merge.yaml:8:3  spec.instanceRef: cannot be changed in place: it comes from a YAML merge key (<<); write it out plainly and run migrate again',
    ]);
    const aliased = `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: demo
  labels: &labels
    sympozium.ai/persona: lead
  annotations: *labels
spec:
  agents:
    default:
      model: m
`;
    expect(migrate(aliased, 'alias.yaml').problems).toEqual([
      'alias.yaml:1:1  cannot be changed in place: YAML anchors, aliases or merge keys share the values to rename; expand them and run migrate again',
    ]);
    const block = `apiVersion: sympozium.ai/v1alpha1
kind: >-
  SympoziumInstance
metadata:
  name: demo
spec:
  agents:
    default:
      model: m
`;
    expect(migrate(block, 'block.yaml').problems).toEqual([
      'block.yaml:2:1  kind: cannot be changed in place: it is a block scalar; write it out plainly and run migrate again',
    ]);
  });

  it('passes a document that is not an object through', () => {
    const text = `- a list\n---\n${instance}`;
    expect(migrate(text).text).toBe(`- a list\n---\n${instance.replace('SympoziumInstance', 'Agent')}`);
  });
});
