import { describe, expect, it } from 'vitest';
import { enableWebEndpoint } from '../../src/commands/enable.js';
import { deleteInstances, describeInstance, getInstance, listInstances } from '../../src/commands/instances.js';
import { showKey } from '../../src/commands/key.js';
import { runTask } from '../../src/commands/run.js';
import { listRuns } from '../../src/commands/runs-list.js';
import { getRun } from '../../src/commands/runs.js';
import { deleteRuns } from '../../src/commands/runs-remove.js';
import { CliError } from '../../src/errors.js';
import { agentRun, fakeCluster, fakeContext, instance } from '../support/fake-context.js';

/**
 * The commands that read and change objects, in-process with a fake cluster: what they print on stdout and
 * stderr for each output format, and the errors they throw.
 */

const objects = () => [
  instance('demo'),
  instance('other', { labels: { team: 'search' }, phase: 'Pending' }),
  agentRun('demo-run-2', 'demo', 'Succeeded', 2, { tokens: 26, source: 'web-proxy' }),
  agentRun('demo-run-1', 'demo', 'Failed', 5),
  agentRun('other-run-1', 'other', 'Running', 1, { source: 'channel' }),
];

describe('instances', () => {
  it('list: a table sorted by name, --no-headers, -o name, jsonpath and custom-columns', async () => {
    const table = fakeContext({ kube: fakeCluster(objects()) });
    await listInstances({ allNamespaces: false, headers: true }, table.ctx);
    const lines = table.stdout().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+PHASE\s+MODEL\s+SKILLS\s+WEB ENDPOINT\s+ACTIVE\s+RUNS\s+LAST RUN\s+AGE$/);
    expect(lines[1]).toMatch(/^demo\s+Running\s+gpt-4.1\s+k8s-ops\s+off\s+0\s+2\s+Succeeded 2m ago\s+10m$/);
    expect(lines[2]).toMatch(/^other\s+Pending\s+/);
    expect(table.stderr()).toBe('');

    const bare = fakeContext({ kube: fakeCluster(objects()) });
    await listInstances({ allNamespaces: false, headers: false }, bare.ctx);
    expect(bare.stdout().split('\n')[0]).toMatch(/^demo\s+Running/);

    const names = fakeContext({ format: 'name', kube: fakeCluster(objects()) });
    await listInstances({ allNamespaces: false, selector: 'team=search' }, names.ctx);
    expect(names.stdout()).toBe('sympoziuminstance.sympozium.ai/other\n');

    const path = fakeContext({ format: 'jsonpath', template: '{range .items[*]}{.metadata.name}={.status.phase};{end}', kube: fakeCluster(objects()) });
    await listInstances({ allNamespaces: false }, path.ctx);
    expect(path.stdout()).toBe('demo=Running;other=Pending;');

    const columns = fakeContext({ format: 'custom-columns', template: 'NAME:.metadata.name,TEAM:.metadata.labels.team', kube: fakeCluster(objects()) });
    await listInstances({ allNamespaces: false, headers: true }, columns.ctx);
    expect(columns.stdout()).toBe('NAME    TEAM\ndemo    <none>\nother   search\n');
  });

  it('list -o json is one List document; an empty namespace says so on stderr only', async () => {
    const json = fakeContext({ format: 'json', kube: fakeCluster(objects()) });
    await listInstances({ allNamespaces: false }, json.ctx);
    const list = JSON.parse(json.stdout()) as { kind: string; items: { metadata: { name: string } }[]; metadata: { resourceVersion: string } };
    expect(list).toMatchObject({ kind: 'List', metadata: { resourceVersion: '42' } });
    expect(list.items.map((item) => item.metadata.name)).toEqual(['demo', 'other']);

    const empty = fakeContext({ kube: fakeCluster([], { namespace: 'team-a' }) });
    await listInstances({ allNamespaces: false }, empty.ctx);
    expect(empty.stdout()).toBe('');
    expect(empty.stderr()).toContain('No instances in namespace team-a.');
  });

  it('get prints one object in each format; a missing one is an error naming it', async () => {
    const yaml = fakeContext({ format: 'yaml', kube: fakeCluster(objects()) });
    await getInstance({ name: 'demo' }, yaml.ctx);
    expect(JSON.parse(yaml.stdout())).toMatchObject({ kind: 'SympoziumInstance', metadata: { name: 'demo' } });
    const path = fakeContext({ format: 'jsonpath', template: '{.spec.agents.default.model}', kube: fakeCluster(objects()) });
    await getInstance({ name: 'demo' }, path.ctx);
    expect(path.stdout()).toBe('gpt-4.1');
    const missing = fakeContext({ kube: fakeCluster(objects()) });
    await expect(getInstance({ name: 'nope' }, missing.ctx)).rejects.toThrow(/nope/);
  });

  it('delete --no-wait -o name prints what was deleted as kubectl delete -o name does', async () => {
    const cluster = fakeCluster(objects());
    const deleted = fakeContext({ format: 'name', kube: cluster });
    await deleteInstances({ names: ['other'], all: false, wait: false, timeoutMs: 1000 }, deleted.ctx);
    expect(deleted.stdout()).toBe('sympoziuminstance.sympozium.ai/other\n');
    expect(cluster.requests).toContain('DELETE /apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/other');
    const missing = fakeContext({ kube: fakeCluster(objects()) });
    await expect(deleteInstances({ names: ['nope'], all: false, wait: false, timeoutMs: 1000 }, missing.ctx)).rejects.toThrow(/nope/);
    expect(missing.stdout()).toBe('');
  });

  it('describe shows the spec, the status and the recent runs', async () => {
    const described = fakeContext({ kube: fakeCluster(objects()) });
    await describeInstance({ name: 'demo' }, described.ctx);
    expect(described.stdout()).toMatch(/Name:\s+demo/);
    expect(described.stdout()).toContain('demo-run-2');
    expect(described.stdout()).not.toContain('other-run-1');
  });
});

describe('runs', () => {
  it('list: newest first, filtered by instance, phase and source, limited', async () => {
    const all = fakeContext({ kube: fakeCluster(objects()) });
    await listRuns({ allNamespaces: false, headers: true }, all.ctx);
    expect(all.stdout().split('\n').slice(1, 4).map((line) => line.split(/\s+/)[0])).toEqual(['other-run-1', 'demo-run-2', 'demo-run-1']);
    expect(all.stdout()).toMatch(/demo-run-2\s+demo\s+Succeeded\s+web-proxy\s+\S+\s+26\s+2m/);

    const filtered = fakeContext({ format: 'name', kube: fakeCluster(objects()) });
    await listRuns({ allNamespaces: false, instance: 'demo', phase: 'Failed' }, filtered.ctx);
    expect(filtered.stdout()).toBe('agentrun.sympozium.ai/demo-run-1\n');

    const limited = fakeContext({ format: 'custom-columns', template: 'RUN:.metadata.name,SOURCE:.metadata.labels.sympozium\\.ai/source', kube: fakeCluster(objects()) });
    await listRuns({ allNamespaces: false, limit: 2, headers: false }, limited.ctx);
    expect(limited.stdout().split('\n').filter(Boolean).map((line) => line.split(/\s+/)[0])).toEqual(['other-run-1', 'demo-run-2']);

    const none = fakeContext({ kube: fakeCluster(objects()) });
    await listRuns({ allNamespaces: false, phase: 'Serving' }, none.ctx);
    expect(none.stdout()).toBe('');
    expect(none.stderr()).toContain('No runs in phase Serving in namespace default.');
  });

  it('get prints the run as fields, or as the object; a missing run says how to list them', async () => {
    const fields = fakeContext({ kube: fakeCluster(objects()) });
    await getRun({ name: 'demo-run-2' }, fields.ctx);
    expect(fields.stdout()).toMatch(/Name:\s+demo-run-2/);
    expect(fields.stdout()).toMatch(/Instance:\s+demo/);
    const json = fakeContext({ format: 'json', kube: fakeCluster(objects()) });
    await getRun({ name: 'demo-run-2' }, json.ctx);
    expect(JSON.parse(json.stdout())).toMatchObject({ kind: 'AgentRun', status: { phase: 'Succeeded' } });
    const missing = fakeContext({ kube: fakeCluster(objects()) });
    const error = await getRun({ name: 'gone' }, missing.ctx).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe('run "gone" not found in namespace "default"');
    expect((error as CliError).hint).toContain('sympozium runs list');
  });

  it('delete removes the named runs and reports the missing ones', async () => {
    const cluster = fakeCluster(objects());
    const deleted = fakeContext({ format: 'json', kube: cluster });
    await deleteRuns({ names: ['demo-run-1', 'nope'] }, deleted.ctx).catch(() => undefined);
    expect(cluster.requests).toContain('DELETE /apis/sympozium.ai/v1alpha1/namespaces/default/agentruns/demo-run-1');
    expect(cluster.objects.map((object) => object.metadata.name)).not.toContain('demo-run-1');
    expect(JSON.parse(deleted.stdout())).toMatchObject({ deleted: ['demo-run-1'], notFound: ['nope'] });
  });
});

describe('key, run and enable', () => {
  it('key show masks the key unless --reveal, and -o json names its Secret', async () => {
    const key = 'sk-proxy-0123456789abcdef';
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'demo-web-proxy-key', namespace: 'default' }, data: { 'api-key': Buffer.from(key).toString('base64') } };
    const masked = fakeContext({ kube: fakeCluster([...objects(), secret]) });
    await showKey({ instance: 'demo', reveal: false }, masked.ctx);
    expect(masked.stdout()).toBe('sk-…cdef\n');
    expect(masked.stderr()).toContain('from Secret demo-web-proxy-key');
    const revealed = fakeContext({ kube: fakeCluster([...objects(), secret]) });
    await showKey({ instance: 'demo', reveal: true }, revealed.ctx);
    expect(revealed.stdout()).toBe(`${key}\n`);
    const json = fakeContext({ format: 'json', kube: fakeCluster([...objects(), secret]) });
    await showKey({ instance: 'demo', reveal: false }, json.ctx);
    expect(JSON.parse(json.stdout())).toEqual({ secret: 'demo-web-proxy-key', namespace: 'default', key: 'sk-…cdef' });
  });

  it('run refuses an instance with no provider key before creating anything (exit 2)', async () => {
    const keyless = instance('bare');
    (keyless.spec as { authRefs: unknown[] }).authRefs = [];
    const cluster = fakeCluster([keyless]);
    const run = fakeContext({ kube: cluster });
    const error = await runTask({ instance: 'bare', task: 'hello', wait: false, timeoutMs: 1000, logs: false }, run.ctx).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toContain('has no provider key');
    expect(cluster.requests.some((request) => !request.startsWith('GET') && !request.startsWith('LIST'))).toBe(false);
  });

  it('enable web-endpoint on a missing instance changes nothing and says so', async () => {
    const cluster = fakeCluster(objects());
    const enable = fakeContext({ kube: cluster });
    await expect(enableWebEndpoint({ instance: 'nope', recreate: false, wait: false, timeoutMs: 1000 }, enable.ctx)).rejects.toThrow(/nope/);
    expect(cluster.requests.filter((request) => request.startsWith('PATCH') || request.startsWith('DELETE'))).toEqual([]);
    expect(enable.stdout()).toBe('');
  });
});
