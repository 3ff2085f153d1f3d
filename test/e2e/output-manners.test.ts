import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevCluster, type DevCluster } from '../support/dev-cluster.js';
import { buildPrivateCopy, runPrivateBin, type PrivateBuild } from '../support/private-build.js';
import { follow, until } from '../support/follow.js';

/**
 * kubectl's output manners, checked against the real kubectl on the same objects of one `sympozium dev`
 * cluster: -o jsonpath (paths, ranges, literals, filters, slices, recursive descent, maps as JSON),
 * -o jsonpath-file, -o custom-columns (missing values, lists, --no-headers), -o name, and -w (the same change
 * lines as `kubectl get -w -o name`; with -o json, NDJSON events).
 */

let cluster: DevCluster;
let build: PrivateBuild;

const env = () => ({ ...cluster.env(), OPENAI_API_KEY: 'sk-local' });
const sympozium = (args: string[]) => runPrivateBin(build.bin, args, { cwd: cluster.dir, env: env(), timeoutMs: 30_000 });

/** The real kubectl, spawned asynchronously (the emulator runs in this process). */
function kubectl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, { env: { PATH: process.env.PATH, KUBECONFIG: cluster.kubeconfig, HOME: cluster.dir } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  build = buildPrivateCopy('sympozium-output-manners-');
  cluster = await startDevCluster('sympozium-output-manners-');
  for (const name of ['demo', 'other']) {
    const created = await sympozium(['init', name, '--api-key-env', 'OPENAI_API_KEY', '--yes', '--apply', '--out', join(cluster.dir, `${name}.yaml`)]);
    expect(created.code, created.stderr).toBe(0);
  }
  const ran = await sympozium(['run', 'demo', 'hello there']);
  expect(ran.code, ran.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  build?.remove();
});

/** Our command and kubectl's, printing the same thing (stdout exactly, both exit 0). */
async function same(ours: string[], theirs: string[]) {
  const [a, b] = await Promise.all([sympozium(ours), kubectl(theirs)]);
  expect(b.code, b.stderr).toBe(0);
  expect(a.code, a.stderr).toBe(0);
  expect(a.stdout, ours.join(' ')).toBe(b.stdout);
  return a.stdout;
}

describe('-o jsonpath, custom-columns and name as kubectl prints them', () => {
  const templates = [
    '{.items[*].metadata.name}',
    '{range .items[*]}{.metadata.name}{"\\t"}{.spec.agents.default.model}{"\\n"}{end}',
    '{.items[0].metadata}',
    '{.items[?(@.metadata.name=="other")].metadata.name}',
    '{.items[*].spec.skills}',
    'first={.items[-1:].metadata.name} kind={$.kind}',
    '{..name}',
    '{.items[*].status.notThere}',
  ];
  it.each(templates)('instances list -o jsonpath=%s', async (template) => {
    await same(['instances', 'list', '-o', `jsonpath=${template}`], ['get', 'sympoziuminstances', '-o', `jsonpath=${template}`]);
  });

  it('instances get, runs list and runs get with jsonpath and jsonpath-file', async () => {
    expect(await same(['instances', 'get', 'demo', '-o', 'jsonpath={.metadata.name} {.spec}'], ['get', 'sympoziuminstance', 'demo', '-o', 'jsonpath={.metadata.name} {.spec}'])).toMatch(/^demo \{"/);
    const runs = '{range .items[*]}{.metadata.name}:{.status.phase}:{.status.tokenUsage}{"\\n"}{end}';
    expect(await same(['runs', 'list', '-o', `jsonpath=${runs}`], ['get', 'agentruns', '-o', `jsonpath=${runs}`])).toContain(':Succeeded:{');
    const run = (await kubectl(['get', 'agentruns', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
    await same(['runs', 'get', run, '-o', 'jsonpath={.spec}'], ['get', 'agentrun', run, '-o', 'jsonpath={.spec}']);
    const file = join(cluster.dir, 'names.jsonpath');
    writeFileSync(file, '{range .items[*]}{.metadata.name}{"\\n"}{end}');
    expect(await same(['instances', 'list', '-o', `jsonpath-file=${file}`], ['get', 'sympoziuminstances', '-o', `jsonpath-file=${file}`])).toBe('demo\nother\n');
  });

  it('custom-columns, with --no-headers, and -o name', async () => {
    const columns = 'custom-columns=NAME:.metadata.name,MODEL:.spec.agents.default.model,SKILLS:.spec.skills,NONE:.nope';
    expect(await same(['instances', 'list', '-o', columns], ['get', 'sympoziuminstances', '-o', columns])).toContain('<none>');
    const relaxed = 'custom-columns=N:metadata.name,LABELS:{.metadata.labels}';
    await same(['instances', 'list', '-o', relaxed, '--no-headers'], ['get', 'sympoziuminstances', '-o', relaxed, '--no-headers']);
    await same(['instances', 'get', 'demo', '-o', 'custom-columns=NAME:.metadata.name'], ['get', 'sympoziuminstance', 'demo', '-o', 'custom-columns=NAME:.metadata.name']);
    const runColumns = 'custom-columns=NAME:.metadata.name,TOKENS:.status.tokenUsage.totalTokens,PHASE:.status.phase';
    await same(['runs', 'list', '-o', runColumns], ['get', 'agentruns', '-o', runColumns]);
    expect(await same(['instances', 'list', '-o', 'name'], ['get', 'sympoziuminstances', '-o', 'name'])).toBe('sympoziuminstance.sympozium.ai/demo\nsympoziuminstance.sympozium.ai/other\n');
    await same(['runs', 'list', '-o', 'name'], ['get', 'agentruns', '-o', 'name']);
  });

  it('--no-headers drops the header line of the table', async () => {
    const [table, bare] = await Promise.all([sympozium(['instances', 'list']), sympozium(['instances', 'list', '--no-headers'])]);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAME\s+PHASE/);
    expect(bare.stdout.split('\n').filter(Boolean).map((line) => line.split(/\s+/)[0])).toEqual(['demo', 'other']);
  });

  it('a broken template is a usage error before any request', async () => {
    for (const output of ['jsonpath={.items[*]', 'jsonpath={range .items[*]}', 'custom-columns=NAME', 'jsonpath']) {
      const result = await sympozium(['instances', 'list', '-o', output, '--kubeconfig', join(cluster.dir, 'missing')]);
      expect(result.code, output).toBe(2);
      expect(result.stdout).toBe('');
    }
  });
});

describe('-w/--watch', () => {
  it('instances list -w -o name prints the same change lines as kubectl get -w -o name', async () => {
    const ours = follow(process.execPath, [build.bin, 'instances', 'list', '-w', '-o', 'name'], { ...env(), CI: '1', FORCE_COLOR: '0' });
    const theirs = follow('kubectl', ['get', 'sympoziuminstances', '-w', '-o', 'name'], { PATH: process.env.PATH, KUBECONFIG: cluster.kubeconfig, HOME: cluster.dir });
    await until(() => ours.lines().length >= 2 && theirs.lines().length >= 2, 'the listed instances');
    const labelled = await kubectl(['label', 'sympoziuminstance', 'other', 'watched=yes']);
    expect(labelled.code, labelled.stderr).toBe(0);
    await until(() => ours.lines().length >= 3 && ours.lines().length === theirs.lines().length, 'the change on both sides');
    expect(ours.lines()).toEqual(theirs.lines());
    expect(ours.lines().at(-1)).toBe('sympoziuminstance.sympozium.ai/other');
    // Ctrl-C ends a watch as it ends any command: exit 130, nothing more on stdout.
    expect(await ours.stop()).toBe(130);
    await theirs.stop();
  });

  it('runs list -w prints the table, then a row per change; with -o json NDJSON events', async () => {
    const table = follow(process.execPath, [build.bin, 'runs', 'list', '-w'], { ...env(), CI: '1', FORCE_COLOR: '0' });
    const events = follow(process.execPath, [build.bin, 'runs', 'list', '-w', '-o', 'json'], { ...env(), CI: '1', FORCE_COLOR: '0' });
    await until(() => table.lines().length >= 2 && events.lines().length >= 1, 'the listed runs');
    const listed = events.lines().map((line) => JSON.parse(line) as { type: string; object: { metadata: { name: string } } });
    expect(listed.every((event) => event.type === 'ADDED')).toBe(true);
    const ran = await sympozium(['run', 'demo', 'second task', '-o', 'name']);
    expect(ran.code, ran.stderr).toBe(0);
    const name = ran.stdout.trim().replace('agentrun.sympozium.ai/', '');
    expect(name).toMatch(/^demo-/);
    await until(() => events.lines().some((line) => line.includes(`"name":"${name}"`) && line.includes('"Succeeded"')), 'the new run succeeding in the events');
    await until(() => table.lines().some((line) => line.startsWith(name) && line.includes('Succeeded')), 'the new run succeeding in the table');
    const header = table.lines()[0]!;
    expect(header).toMatch(/^NAME\s+INSTANCE\s+PHASE/);
    // Rows keep the columns of the table they follow.
    const row = table.lines().find((line) => line.startsWith(name))!;
    expect(row.indexOf(' demo ') + 1).toBe(header.indexOf('INSTANCE'));
    const types = events.lines().slice(listed.length).map((line) => (JSON.parse(line) as { type: string }).type);
    expect(types[0]).toBe('ADDED');
    expect(types).toContain('MODIFIED');
    await Promise.all([table.stop(), events.stop()]);
  });

  it('refuses -o yaml, one document, with --watch', async () => {
    const result = await sympozium(['runs', 'list', '-w', '-o', 'yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('-o yaml cannot follow changes with --watch');
  });
});
