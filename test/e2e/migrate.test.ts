import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startApiServer, type ApiServer } from '@sympozium/kube-emulator';
import { createKubeClient, type KubeClient } from '../../src/kube/client.js';
import { readManifests, type ManifestDocument } from '../../src/sympozium/manifests.js';
import { upstreamCrds } from '../../src/sympozium/releases.js';
import { validateDocuments } from '../../src/sympozium/validate.js';
import { buildPrivateCopy, runPrivateBin, type PrivateBuild } from '../support/private-build.js';

/**
 * `sympozium migrate` as a user runs it: the built bin (a private build), no TTY. Every v0.5.8 document
 * upstream ships that v0.5.8's CRDs accept becomes one v0.10.46's CRDs accept, meaning the same thing under the
 * new names; comments and order survive; twice changes nothing; a value with no home stops everything before
 * anything is written; --out <dir> never replaces a file without --force; --from-cluster only reads.
 */

let build: PrivateBuild;
beforeAll(() => {
  build = buildPrivateCopy('sympozium-e2e-migrate-');
});
afterAll(() => build?.remove());

let cases = 0;
function freshDir(): string {
  const dir = path.join(build.dir, `case-${++cases}`);
  mkdirSync(dir);
  return dir;
}

const sympozium = (args: string[], options: { cwd: string; input?: string; env?: NodeJS.ProcessEnv }) => runPrivateBin(build.bin, args, options);

const upstream = path.resolve('../shared/upstream/v0.5.8');
const folders = ['config/samples', 'config/skills', 'config/policies', 'examples', 'docs-manifests'];

/**
 * What the migration must mean, written out independently of src/sympozium/migrate.ts: upstream's renames
 * (kinds, AgentRun/SympoziumSchedule instanceRef, PersonaPack personas, the PersonaPack labels, SkillPack RBAC).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function expectedV010(input: any): any {
  const object = structuredClone(input);
  const rename = (parent: Record<string, unknown> | undefined, from: string, to: string) => {
    if (!parent || !(from in parent)) return parent;
    return Object.fromEntries(Object.entries(parent).map(([key, value]) => [key === from ? to : key, value]));
  };
  const kind = object.kind;
  if (kind === 'SympoziumInstance') object.kind = 'Agent';
  if (kind === 'PersonaPack') {
    object.kind = 'Ensemble';
    object.spec = rename(object.spec, 'personas', 'agentConfigs');
  }
  if (kind === 'AgentRun' || kind === 'SympoziumSchedule') object.spec = rename(object.spec, 'instanceRef', 'agentRef');
  if (object.metadata?.labels) {
    object.metadata.labels = rename(rename(object.metadata.labels, 'sympozium.ai/persona-pack', 'sympozium.ai/ensemble'), 'sympozium.ai/persona', 'sympozium.ai/agent-config');
  }
  for (const reference of object.metadata?.ownerReferences ?? []) {
    if (reference.kind === 'SympoziumInstance') reference.kind = 'Agent';
  }
  for (const rule of [...(object.spec?.sidecar?.rbac ?? []), ...(object.spec?.sidecar?.clusterRBAC ?? [])]) {
    if (rule.apiGroups.includes('sympozium.ai')) rule.resources = rule.resources.map((name: string) => (name === 'sympoziuminstances' ? 'agents' : name));
  }
  return object;
}

function isValid(document: ManifestDocument, release: 'v0.5.8' | 'v0.10.46'): boolean {
  return !validateDocuments([document], { release }).some((problem) => problem.severity === 'error');
}

describe('sympozium migrate: the upstream v0.5.8 corpus', () => {
  it('turns every document v0.5.8 accepts into one v0.10.46 accepts, meaning the same under the new names', async () => {
    const cwd = freshDir();
    const corpus = path.join(cwd, 'v0.5.8');
    // Each valid Sympozium document as upstream wrote it (a whole file when every document in it is valid,
    // else the document's own text), with the other documents of such files.
    const read = await readManifests(folders.map((folder) => path.join(upstream, folder)), { cwd, stdin: process.stdin });
    const bySource = new Map<string, ManifestDocument[]>();
    for (const document of read.documents) bySource.set(document.source, [...(bySource.get(document.source) ?? []), document]);
    const inputs: ManifestDocument[] = [];
    for (const [source, documents] of bySource) {
      const sympozium = documents.filter((document) => String(document.object.apiVersion).startsWith('sympozium.ai/'));
      const valid = sympozium.filter((document) => isValid(document, 'v0.5.8'));
      if (valid.length === 0) continue;
      const relative = path.relative(upstream, source);
      const target = path.join(corpus, relative);
      mkdirSync(path.dirname(target), { recursive: true });
      if (valid.length === sympozium.length) {
        cpSync(source, target);
        inputs.push(...documents);
        continue;
      }
      const text = readFileSync(source, 'utf8');
      valid.forEach((document, index) => {
        const [start, , end] = document.yaml!.range;
        writeFileSync(target.replace(/\.ya?ml$/, `.${index}.yaml`), text.slice(start, end));
        inputs.push(document);
      });
    }
    const validInputs = inputs.filter((document) => String(document.object.apiVersion).startsWith('sympozium.ai/'));
    expect(validInputs.length).toBe(44);
    const kinds = new Set(validInputs.map((document) => document.object.kind));
    expect([...kinds].sort()).toEqual(['AgentRun', 'PersonaPack', 'SkillPack', 'SympoziumInstance', 'SympoziumPolicy', 'SympoziumSchedule']);

    const migrated = await sympozium(['migrate', '-f', 'v0.5.8', '--out', 'v0.10.46'], { cwd });
    expect(migrated.stderr).toMatch(/^✔ migrated 2\d documents in \d+ files; \d+ passed through \(wrote \d+ files under v0\.10\.46\)\n/);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toBe('');

    // The built bin's own validator, by v0.10.46's CRDs.
    const check = await sympozium(['validate', '-f', 'v0.10.46', '--release', 'v0.10.46'], { cwd });
    expect(check.stderr, check.stdout).toMatch(/^✔ \d+ documents in \d+ files valid.*\(Sympozium release v0\.10\.46\)\n$/);
    expect(check.code).toBe(0);

    // Document by document: valid under v0.10.46, and exactly the input under the new names.
    const outputs = await readManifests([path.join(cwd, 'v0.10.46')], { cwd, stdin: process.stdin });
    expect(outputs.problems).toEqual([]);
    const outputByPlace = new Map(outputs.documents.map((document) => [`${path.relative(path.join(cwd, 'v0.10.46'), document.source)}#${document.index}`, document]));
    const inputsRead = await readManifests([path.join(cwd, 'v0.5.8')], { cwd, stdin: process.stdin });
    expect(inputsRead.documents.length).toBe(outputs.documents.length);
    for (const input of inputsRead.documents) {
      const output = outputByPlace.get(`${path.relative(path.join(cwd, 'v0.5.8'), input.source)}#${input.index}`)!;
      expect(output, input.source).toBeDefined();
      expect(output.object, input.source).toEqual(expectedV010(input.object));
      if (String(input.object.apiVersion).startsWith('sympozium.ai/')) expect(isValid(output, 'v0.10.46'), input.source).toBe(true);
      // Key order survives: spec's keys in the input's order, renamed in place.
      const spec = input.object.spec as Record<string, unknown> | undefined;
      if (spec) expect(Object.keys(output.object.spec as object)).toEqual(Object.keys(expectedV010(input.object).spec));
    }
    const outKinds = new Set(outputs.documents.map((document) => document.object.kind));
    expect(outKinds.has('SympoziumInstance') || outKinds.has('PersonaPack')).toBe(false);

    // Outside the renamed tokens, every byte is the input's: comments and layout survive.
    for (const file of listFiles(path.join(cwd, 'v0.5.8'))) {
      const before = readFileSync(path.join(cwd, 'v0.5.8', file), 'utf8');
      const after = readFileSync(path.join(cwd, 'v0.10.46', file), 'utf8');
      expect(withoutRenamedTokens(after), file).toBe(withoutRenamedTokens(before));
      expect(after.split('\n').filter((line) => line.trimStart().startsWith('#'))).toEqual(before.split('\n').filter((line) => line.trimStart().startsWith('#')));
    }

    // Twice changes nothing: the output migrated again is the same bytes.
    const again = await sympozium(['migrate', '-f', 'v0.10.46', '--out', 'again'], { cwd });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/^✔ migrated 0 documents in 0 files; \d+ passed through/);
    for (const file of listFiles(path.join(cwd, 'v0.10.46'))) {
      expect(readFileSync(path.join(cwd, 'again', file), 'utf8'), file).toBe(readFileSync(path.join(cwd, 'v0.10.46', file), 'utf8'));
    }
  }, 60_000);

  it('refuses the whole corpus, writing nothing, because some upstream documents are invalid under both releases', async () => {
    const cwd = freshDir();
    const result = await sympozium(['migrate', '-f', path.join(upstream, 'config/samples'), '--out', 'out'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('agentrun_sample.yaml:10:3  spec.agentID: no home in v0.10.46 (AgentRun has no field "agentID", did you mean agentId?; v0.5.8\'s AgentRun has no such field either)');
    expect(result.stderr).toContain('agentrun_sample.yaml:34:12  spec.cleanup: invalid under v0.10.46: must be one of delete, keep, not "OnFailure" (invalid under v0.5.8 too)');
    expect(result.stderr).toMatch(/error: \d+ problems in 2 files; nothing written\n/);
    expect(existsSync(path.join(cwd, 'out'))).toBe(false);
  });
});

function permissivePolicy() {
  return parseAllDocuments(readFileSync(path.join(upstream, 'config/policies/permissive.yaml'), 'utf8'))[0]!.toJS();
}

function listFiles(root: string, prefix = ''): string[] {
  return readdirSync(path.join(root, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listFiles(root, path.join(prefix, entry.name)) : [path.join(prefix, entry.name)],
  );
}

/** The text with the names migrate renames blanked out, on both sides. */
function withoutRenamedTokens(text: string): string {
  return text.replace(/\b(SympoziumInstance|Agent|PersonaPack|Ensemble|instanceRef|agentRef|personas|agentConfigs|sympoziuminstances|agents)\b/g, '_');
}

const v05 = `# Team demo, v0.5.8 manifests
apiVersion: v1
kind: Secret
metadata:
  name: demo-openai-key   # never touched
stringData:
  OPENAI_API_KEY: sk-placeholder
---
apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance   # the agent
metadata:
  name: demo
  labels:
    sympozium.ai/persona-pack: team
    sympozium.ai/persona: lead
spec:
  # what it runs
  agents:
    default:
      model: gpt-4.1
  authRefs:
    - provider: openai
      secret: demo-openai-key
---
apiVersion: sympozium.ai/v1alpha1
kind: AgentRun
metadata:
  name: demo-run
spec:
  agentId: default
  instanceRef: demo # renamed in v0.10
  sessionKey: s-1
  task: "list the pods"
  model:
    provider: openai
    model: gpt-4.1
    authSecretRef: demo-openai-key
`;

const v010 = v05
  .replace('kind: SympoziumInstance   # the agent', 'kind: Agent   # the agent')
  .replace('sympozium.ai/persona-pack: team', 'sympozium.ai/ensemble: team')
  .replace('sympozium.ai/persona: lead', 'sympozium.ai/agent-config: lead')
  .replace('instanceRef: demo # renamed', 'agentRef: demo # renamed');

describe('sympozium migrate -f', () => {
  it('prints the v0.10.46 manifests with comments, order and the Secret untouched; twice is the same bytes', async () => {
    const cwd = freshDir();
    writeFileSync(path.join(cwd, 'demo.yaml'), v05);
    const first = await sympozium(['migrate', '-f', 'demo.yaml'], { cwd });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(v010);
    expect(first.stderr).toBe('✔ migrated 2 documents in 1 file; 1 passed through\n');

    // Through stdin, the output migrated again.
    const second = await sympozium(['migrate', '-f', '-'], { cwd, input: first.stdout });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toBe('✔ migrated 0 documents in 0 files; 3 passed through\n');

    const valid = await sympozium(['validate', '-f', '-', '--release', 'v0.10.46'], { cwd, input: first.stdout });
    expect(valid.code, valid.stdout).toBe(0);
  });

  it('prints several files as one stream, and refuses -f - with --out <dir>', async () => {
    const cwd = freshDir();
    writeFileSync(path.join(cwd, 'a.yaml'), v05);
    writeFileSync(path.join(cwd, 'b.json'), JSON.stringify({ apiVersion: 'sympozium.ai/v1alpha1', kind: 'SympoziumSchedule', metadata: { name: 'beat' }, spec: { instanceRef: 'demo', schedule: '*/5 * * * *', task: 'check' } }));
    const both = await sympozium(['migrate', '-f', 'a.yaml', '-f', 'b.json'], { cwd });
    expect(both.code).toBe(0);
    expect(both.stdout).toBe(`${v010}---\n{"apiVersion":"sympozium.ai/v1alpha1","kind":"SympoziumSchedule","metadata":{"name":"beat"},"spec":{"agentRef":"demo","schedule":"*/5 * * * *","task":"check"}}\n`);
    expect(parseAllDocuments(both.stdout).map((document) => document.toJS().kind)).toEqual(['Secret', 'Agent', 'AgentRun', 'SympoziumSchedule']);

    const stdinToDir = await sympozium(['migrate', '-f', '-', '--out', 'out'], { cwd, input: v05 });
    expect(stdinToDir.code).toBe(2);
    expect(stdinToDir.stderr).toBe('error: -f - has no file name to write under --out <dir>\nPrint to stdout instead (--out -, the default).\n');
  });

  it('stops at a value with no home in v0.10.46, naming it with its place, and writes nothing', async () => {
    const cwd = freshDir();
    writeFileSync(path.join(cwd, 'good.yaml'), v05);
    writeFileSync(
      path.join(cwd, 'bad.yaml'),
      v05.replace('instanceRef: demo # renamed in v0.10', 'instanceRef: demo # renamed in v0.10\n  agentRef: other').replace('      model: gpt-4.1\n  authRefs', '      model: gpt-4.1\n      maxTokens: 4096\n  authRefs'),
    );
    const result = await sympozium(['migrate', '-f', 'good.yaml', 'bad.yaml', '--out', 'out'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        'bad.yaml:21:7  spec.agents.default.maxTokens: no home in v0.10.46 (Agent has no field "maxTokens"; v0.5.8\'s SympoziumInstance has no such field either)',
        'bad.yaml:32:3  spec.instanceRef: no home in v0.10.46 (it becomes spec.agentRef, which is set too: keep one of them)',
        'error: 2 problems in 1 file; nothing written',
        'Fix them in the input and run migrate again; `sympozium validate -f <file> --release v0.5.8` shows what v0.5.8 itself refuses.',
        '',
      ].join('\n'),
    );
    expect(existsSync(path.join(cwd, 'out'))).toBe(false);
    // -o json says the same on stdout.
    const json = await sympozium(['migrate', '-f', 'bad.yaml', '--out', 'out', '-o', 'json'], { cwd });
    expect(json.code).toBe(2);
    const summary = JSON.parse(json.stdout);
    expect(summary.written).toBe(false);
    expect(summary.problems.map((problem: { path: string }) => problem.path)).toEqual(['spec.agents.default.maxTokens', 'spec.instanceRef']);
    expect(existsSync(path.join(cwd, 'out'))).toBe(false);
  });

  it('writes a tree under --out <dir> with the same names and modes, never replacing a file without --force', async () => {
    const cwd = freshDir();
    mkdirSync(path.join(cwd, 'old', 'team'), { recursive: true });
    writeFileSync(path.join(cwd, 'old', 'team', 'demo.yaml'), v05);
    chmodSync(path.join(cwd, 'old', 'team', 'demo.yaml'), 0o600);
    writeFileSync(path.join(cwd, 'old', 'notes.json'), '["not", "an object"]\n');

    const first = await sympozium(['migrate', '-f', 'old', '--out', 'new'], { cwd });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe('✔ migrated 2 documents in 1 file; 2 passed through (wrote 2 files under new)\nCheck them with: sympozium validate -f new --release v0.10.46\n');
    expect(readFileSync(path.join(cwd, 'new', 'team', 'demo.yaml'), 'utf8')).toBe(v010);
    expect(statSync(path.join(cwd, 'new', 'team', 'demo.yaml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(cwd, 'new', 'notes.json'), 'utf8')).toBe('["not", "an object"]\n');

    // Again, unchanged: the copies are up to date, nothing to replace.
    const again = await sympozium(['migrate', '-f', 'old', '--out', 'new'], { cwd });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('(wrote 0 files under new, 2 already up to date)');

    // The input changed: the copy that differs is not replaced without --force, and nothing else is written.
    writeFileSync(path.join(cwd, 'old', 'team', 'demo.yaml'), v05.replace('gpt-4.1', 'gpt-4.1-mini'));
    writeFileSync(path.join(cwd, 'old', 'extra.yaml'), v05);
    const refused = await sympozium(['migrate', '-f', 'old', '--out', 'new'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`error: ${path.join('new', 'team', 'demo.yaml')} already exists; nothing written\nPass --force to replace them, or choose another --out directory.\n`);
    expect(readFileSync(path.join(cwd, 'new', 'team', 'demo.yaml'), 'utf8')).toBe(v010);
    expect(existsSync(path.join(cwd, 'new', 'extra.yaml'))).toBe(false);

    const forced = await sympozium(['migrate', '-f', 'old', '--out', 'new', '--force', '-o', 'json'], { cwd });
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(path.join(cwd, 'new', 'team', 'demo.yaml'), 'utf8')).toBe(v010.replace('gpt-4.1', 'gpt-4.1-mini'));
    const summary = JSON.parse(forced.stdout);
    expect(summary).toMatchObject({ written: true, migrated: 4, passedThrough: 3 });
    expect(summary.documents.find((document: { kind: string }) => document.kind === 'AgentRun').changes).toEqual(['spec.instanceRef -> spec.agentRef']);

    // In place.
    const inPlace = await sympozium(['migrate', '-f', 'old', '--out', 'old', '--force'], { cwd });
    expect(inPlace.code).toBe(0);
    expect(readFileSync(path.join(cwd, 'old', 'extra.yaml'), 'utf8')).toBe(v010);

    // --out naming a file, and -o json with stdout carrying the manifests, are usage errors.
    const toFile = await sympozium(['migrate', '-f', 'old', '--out', path.join('old', 'extra.yaml')], { cwd });
    expect(toFile.code).toBe(2);
    expect(toFile.stderr).toContain('is not a directory');
    const jsonToStdout = await sympozium(['migrate', '-f', 'old', '-o', 'json'], { cwd });
    expect(jsonToStdout.code).toBe(2);
    expect(jsonToStdout.stderr).toContain('-o json prints a summary, but stdout carries the manifests with --out -');
    const name = await sympozium(['migrate', '-f', 'old', '-o', 'name'], { cwd });
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('-o name is not supported by `sympozium migrate`');
  });
});

describe('sympozium migrate --from-cluster', () => {
  let server: ApiServer;
  let kube: KubeClient;
  let kubeconfig: string;
  const base = '/apis/sympozium.ai/v1alpha1/namespaces/team-a';

  beforeAll(async () => {
    server = await startApiServer();
    const dir = freshDir();
    kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, server.kubeconfigYaml(), { mode: 0o600 });
    kube = createKubeClient({ globals: { kubeconfig }, env: {} });
    // A v0.5.8 installation: upstream's own CRDs.
    for (const crd of upstreamCrds('v0.5.8')) await kube.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    for (const name of ['team-a', 'team-b']) await kube.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    const owner = await kube.create<{ metadata: { uid: string } }>(`${base}/personapacks`, {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'PersonaPack',
      metadata: { name: 'team', finalizers: ['sympozium.ai/personapack-finalizer'] },
      spec: { enabled: true, personas: [{ name: 'lead', systemPrompt: 'Lead the team.\nBe brief.' }] },
    });
    await kube.mergePatch(`${base}/personapacks/team/status`, { status: { phase: 'Ready', personaCount: 1 } });
    await kube.create(`${base}/sympoziuminstances`, {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'SympoziumInstance',
      metadata: {
        name: 'team-lead',
        labels: { 'sympozium.ai/persona-pack': 'team', 'sympozium.ai/persona': 'lead' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"SympoziumInstance"}', note: 'kept' },
        finalizers: ['sympozium.ai/finalizer'],
        ownerReferences: [{ apiVersion: 'sympozium.ai/v1alpha1', kind: 'PersonaPack', name: 'team', uid: owner.metadata.uid, controller: true }],
      },
      spec: { agents: { default: { model: 'gpt-4.1' } }, authRefs: [{ provider: 'openai', secret: 'team-key' }] },
    });
    await kube.mergePatch(`${base}/sympoziuminstances/team-lead/status`, { status: { phase: 'Running' } });
    await kube.create(`${base}/sympoziumschedules`, {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'SympoziumSchedule',
      metadata: { name: 'team-lead-heartbeat', labels: { 'sympozium.ai/persona-pack': 'team' } },
      spec: { instanceRef: 'team-lead', schedule: '*/30 * * * *', task: 'check in' },
    });
    await kube.create(`${base}/agentruns`, {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'AgentRun',
      metadata: { name: 'team-lead-run-1' },
      spec: { instanceRef: 'team-lead', agentId: 'default', sessionKey: 's', task: 't', model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: 'team-key' } },
    });
    const permissive = parseAllDocuments(readFileSync(path.join(upstream, 'config/policies/permissive.yaml'), 'utf8'))[0]!.toJS();
    await kube.create(`${base}/sympoziumpolicies`, { ...permissive, metadata: { name: 'permissive' } });
    const webEndpoint = parseAllDocuments(readFileSync(path.join(upstream, 'config/skills/web-endpoint.yaml'), 'utf8'))[0]!.toJS();
    await kube.create(`${base}/skillpacks`, { ...webEndpoint, metadata: { name: 'web-endpoint' } });
    await kube.create('/apis/sympozium.ai/v1alpha1/namespaces/team-b/sympoziuminstances', {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'SympoziumInstance',
      metadata: { name: 'elsewhere' },
      spec: { agents: { default: { model: 'gpt-4.1' } } },
    });
  });

  afterAll(async () => {
    kube?.close();
    await server?.close();
  });

  async function snapshot(): Promise<string> {
    const lists = [];
    for (const namespace of ['team-a', 'team-b']) {
      for (const plural of ['personapacks', 'sympoziuminstances', 'sympoziumschedules', 'agentruns', 'skillpacks', 'sympoziumpolicies', 'mcpservers', 'sympoziumconfigs']) {
        lists.push((await kube.list(`/apis/sympozium.ai/v1alpha1/namespaces/${namespace}/${plural}`)).items);
      }
    }
    return JSON.stringify(lists);
  }

  it('prints the namespace\'s objects migrated, without server fields, and leaves the cluster as it was', async () => {
    const cwd = freshDir();
    const before = await snapshot();
    const seen = server.requestLog.length;
    const result = await sympozium(['migrate', '--from-cluster', '-n', 'team-a'], { cwd, env: { KUBECONFIG: kubeconfig } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('left out 1 AgentRun: applying a run starts it again (--include-runs migrates them too)\n✔ migrated 4 objects; 1 passed through\n');
    const documents = parseAllDocuments(result.stdout).map((document) => document.toJS());
    expect(documents.map((document) => `${document.kind}/${document.metadata.name}`)).toEqual([
      'SympoziumPolicy/permissive',
      'SkillPack/web-endpoint',
      'Ensemble/team',
      'Agent/team-lead',
      'SympoziumSchedule/team-lead-heartbeat',
    ]);
    const [policy, skillPack, ensemble, agent, schedule] = documents;
    expect(policy).toEqual({ ...permissivePolicy(), metadata: { name: 'permissive', namespace: 'team-a' } });
    expect(ensemble).toEqual({
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'Ensemble',
      metadata: { name: 'team', namespace: 'team-a' },
      spec: { enabled: true, agentConfigs: [{ name: 'lead', systemPrompt: 'Lead the team.\nBe brief.' }] },
    });
    expect(agent.metadata).toEqual({
      name: 'team-lead',
      namespace: 'team-a',
      labels: { 'sympozium.ai/ensemble': 'team', 'sympozium.ai/agent-config': 'lead' },
      annotations: { note: 'kept' },
    });
    expect(agent.status).toBeUndefined();
    // With the defaults the API server filled in from v0.5.8's CRD, which v0.10.46's has too.
    expect(schedule.spec).toEqual({ agentRef: 'team-lead', schedule: '*/30 * * * *', task: 'check in', concurrencyPolicy: 'Forbid', includeMemory: true, type: 'scheduled' });
    expect(schedule.spec.instanceRef).toBeUndefined();
    expect(skillPack.spec.sidecar.rbac[1].resources).toEqual(['agents']);
    expect(result.stdout).toContain('systemPrompt: |-\n        Lead the team.\n        Be brief.\n');
    const valid = await sympozium(['validate', '-f', '-', '--release', 'v0.10.46'], { cwd, input: result.stdout });
    expect(valid.code, valid.stdout).toBe(0);

    // Only reads.
    expect(server.requestLog.slice(seen).filter((entry) => entry.method !== 'GET')).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it('writes one file per object under --out <dir>, AgentRuns too with --include-runs', async () => {
    const cwd = freshDir();
    const before = await snapshot();
    const result = await sympozium(['migrate', '--from-cluster', '-n', 'team-a', '--include-runs', '--out', 'team-a'], { cwd, env: { KUBECONFIG: kubeconfig } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('✔ migrated 5 objects; 1 passed through (wrote 6 files under team-a)\nCheck them with: sympozium validate -f team-a --release v0.10.46\n');
    expect(readdirSync(path.join(cwd, 'team-a')).sort()).toEqual([
      'agent-team-lead.yaml',
      'agentrun-team-lead-run-1.yaml',
      'ensemble-team.yaml',
      'skillpack-web-endpoint.yaml',
      'sympoziumpolicy-permissive.yaml',
      'sympoziumschedule-team-lead-heartbeat.yaml',
    ]);
    const run = parseAllDocuments(readFileSync(path.join(cwd, 'team-a', 'agentrun-team-lead-run-1.yaml'), 'utf8'))[0]!.toJS();
    expect(run.spec.agentRef).toBe('team-lead');
    expect(run.spec.instanceRef).toBeUndefined();
    const valid = await sympozium(['validate', '-f', 'team-a', '--release', 'v0.10.46'], { cwd });
    expect(valid.code, valid.stdout).toBe(0);
    // The files migrated again are unchanged.
    const again = await sympozium(['migrate', '-f', 'team-a', '--out', 'team-a'], { cwd });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('migrated 0 documents in 0 files; 6 passed through (wrote 0 files under team-a, 6 already up to date)');
    expect(await snapshot()).toBe(before);

    const both = await sympozium(['migrate', '--from-cluster', '-f', 'x.yaml'], { cwd, env: { KUBECONFIG: kubeconfig } });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('pass -f or --from-cluster, not both');
  });
});
