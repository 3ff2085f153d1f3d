/**
 * Checklist §7 P0 (connectivity, discovery, CRDs) plus the read-side P1/P2 items, with the real kubectl.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, HAS_KUBECTL, startEmulator, type Emulator } from './helpers.js';

describe.skipIf(!HAS_KUBECTL)('kubectl v1.32 against the emulator: discovery and CRDs', () => {
  let emu: Emulator;

  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('P0.1 reports server minor 32 and kubectl runs its v1.32 client', async () => {
    const r = await emu.kubectl(['version', '-o', 'json']);
    expect(r.rc).toBe(0);
    expect(JSON.parse(r.stdout).serverVersion.minor).toBe('32');
    const agents = emu.server.requestLog.map((e) => e.headers['user-agent'] ?? '');
    expect(agents.some((ua) => ua.startsWith('kubectl-dispatcher/'))).toBe(true);
    expect(agents.some((ua) => /^kubectl\/v1\.32\./.test(ua))).toBe(true);
  });

  it('P0.2 api-resources lists the built-ins with their short names', async () => {
    const r = await emu.kubectl(['api-resources']);
    expect(r.rc).toBe(0);
    for (const re of [/^secrets\s/m, /^services\s+svc\s/m, /^deployments\s+deploy\s/m, /^customresourcedefinitions\s+crd,crds\s/m, /^namespaces\s+ns\s/m, /^pods\s+po\s/m]) {
      expect(r.stdout).toMatch(re);
    }
  });

  it('P0.3-5 applies three CRDs, waits for Established and serves their kinds', async () => {
    const r = await emu.kubectl(['apply', '-f', fixture('crds.yaml')]);
    expect(r.rc, r.out).toBe(0);
    for (const name of ['sympoziuminstances', 'agentruns', 'skillpacks']) {
      expect(r.stdout).toContain(`customresourcedefinition.apiextensions.k8s.io/${name}.sympozium.ai created`);
    }
    const w = await emu.kubectl(['wait', '--for=condition=Established', 'crd/sympoziuminstances.sympozium.ai', '--timeout=10s']);
    expect(w.rc, w.out).toBe(0);
    expect(w.stdout).toContain('condition met');
    const a = await emu.kubectl(['api-resources', '--api-group=sympozium.ai']);
    expect(a.rc).toBe(0);
    expect(a.stdout).toMatch(/^sympoziuminstances\s+si\s+sympozium\.ai\/v1alpha1\s+true\s+SympoziumInstance/m);
    expect(a.stdout).toMatch(/^agentruns\s+ar\s+sympozium\.ai\/v1alpha1\s+true\s+AgentRun/m);
    expect(a.stdout).toMatch(/^skillpacks\s+sp\s+sympozium\.ai\/v1alpha1\s+true\s+SkillPack/m);
  });

  it('P0.6 an empty list and an unknown type read as on a cluster', async () => {
    const r = await emu.kubectl(['get', 'sympoziuminstances']);
    expect(r.rc).toBe(0);
    expect(r.stderr).toContain('No resources found in default namespace.');
    const n = await emu.kubectl(['get', 'nosuch']);
    expect(n.rc).toBe(1);
    expect(n.stderr).toContain('error: the server doesn\'t have a resource type "nosuch"');
  });

  it('P0.7 apply creates with server-side Strict validation, then unchanged, configured, and removes dropped fields', async () => {
    const before = emu.server.requestLog.length;
    const r = await emu.kubectl(['apply', '-f', fixture('si.yaml')]);
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toContain('sympoziuminstance.sympozium.ai/demo created');
    const requests = emu.server.requestLog.slice(before);
    const post = requests.find((e) => e.method === 'POST' && e.path.endsWith('/sympoziuminstances'));
    expect(post?.query).toContain('fieldValidation=Strict');
    const postIndex = requests.indexOf(post!);
    expect(requests.slice(0, postIndex).some((e) => e.path === '/openapi/v2')).toBe(false);

    const again = await emu.kubectl(['apply', '-f', fixture('si.yaml')]);
    expect(again.stdout).toContain('sympoziuminstance.sympozium.ai/demo unchanged');

    const changed = await emu.kubectl(['apply', '-f', fixture('si-changed.yaml')]);
    expect(changed.stdout).toContain('sympoziuminstance.sympozium.ai/demo configured');
    const patch = emu.server.requestLog.filter((e) => e.method === 'PATCH').pop();
    expect(patch?.headers['content-type']).toBe('application/merge-patch+json');

    const manifest = readFileSync(fixture('si.yaml'), 'utf8').replace('  replicas: 1\n', '');
    const removed = await emu.kubectl(['apply', '-f', '-'], { input: manifest });
    expect(removed.rc, removed.out).toBe(0);
    const got = JSON.parse((await emu.kubectl(['get', 'si', 'demo', '-o', 'json'])).stdout);
    expect(got.spec.replicas).toBeUndefined();
    expect(got.spec.model).toBe('gpt-4o');
  });

  it('P0.8 the stored object carries server metadata and the last-applied annotation', async () => {
    const r = await emu.kubectl(['get', 'si', 'demo', '-o', 'json']);
    const obj = JSON.parse(r.stdout);
    expect(obj.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(obj.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(obj.metadata.generation).toBeGreaterThanOrEqual(1);
    expect(typeof obj.metadata.resourceVersion).toBe('string');
    expect(obj.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain('"name":"demo"');
    expect(obj.spec.provider).toBe('openai'); // schema default
  });

  it('P0.9 get prints printer columns with a human age; -o wide adds priority columns', async () => {
    await emu.kubectl(['patch', 'si', 'demo', '--type=merge', '-p', '{"spec":{"replicas":2}}']);
    const r = await emu.kubectl(['get', 'si']);
    expect(r.stdout).toMatch(/^NAME\s+PHASE\s+MODEL\s+AGE\s*$/m);
    expect(r.stdout).toMatch(/^demo\s+gpt-4o\s+\d+s\s*$/m);
    const wide = await emu.kubectl(['get', 'si', '-o', 'wide']);
    expect(wide.stdout).toMatch(/^NAME\s+PHASE\s+MODEL\s+REPLICAS\s+AGE\s*$/m);
    expect(wide.stdout).toMatch(/^demo\s+gpt-4o\s+2\s+\d+s\s*$/m);
  });

  it('P2.45 get -A shows a NAMESPACE column through the cluster-wide path', async () => {
    const r = await emu.kubectl(['get', 'si', '-A']);
    expect(r.stdout).toMatch(/^NAMESPACE\s+NAME\s+PHASE\s+MODEL\s+AGE/m);
    expect(r.stdout).toMatch(/^default\s+demo\s/m);
    expect(emu.server.requestLog.some((e) => e.path === '/apis/sympozium.ai/v1alpha1/sympoziuminstances')).toBe(true);
  });

  it('P1.27 explain shows field descriptions from the CRD schema', async () => {
    const r = await emu.kubectl(['explain', 'sympoziuminstances.spec']);
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toContain('SympoziumInstanceSpec is the desired state of the instance.');
    expect(r.stdout).toMatch(/model\s+<string>/);
    expect(r.stdout).toContain('The model the agents use, for example gpt-4o.');
  });

  it('P0.10 delete, then NotFound, then --ignore-not-found', async () => {
    const d = await emu.kubectl(['delete', 'si', 'demo']);
    expect(d.rc, d.out).toBe(0);
    expect(d.stdout).toContain('sympoziuminstance.sympozium.ai "demo" deleted');
    const g = await emu.kubectl(['get', 'si', 'demo']);
    expect(g.rc).toBe(1);
    expect(g.stderr).toContain('Error from server (NotFound): sympoziuminstances.sympozium.ai "demo" not found');
    const i = await emu.kubectl(['delete', 'si', 'demo', '--ignore-not-found']);
    expect(i.rc).toBe(0);
  });

  it('P1.28 a CRD and its CR in one file: the CRD is created, the CR is not mapped yet; a re-run succeeds', async () => {
    const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
`;
    const first = await emu.kubectl(['apply', '-f', '-'], { input: crd });
    expect(first.rc).toBe(1);
    expect(first.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/widgets.example.com created');
    expect(first.stderr).toContain('resource mapping not found');
    expect(first.stderr).toContain('ensure CRDs are installed first');
    const second = await emu.kubectl(['apply', '-f', '-'], { input: crd });
    expect(second.rc, second.out).toBe(0);
    expect(second.stdout).toContain('widget.example.com/w1 created');
  });

  it('P2.46 a new CRD is found with a warm discovery cache after one refetch', async () => {
    expect((await emu.kubectl(['get', 'si'])).rc).toBe(0); // warms the cache
    const crd = JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { kind: 'Gadget', plural: 'gadgets' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } }] },
    });
    expect((await emu.kubectl(['create', '-f', '-'], { input: crd })).rc).toBe(0);
    const r = await emu.kubectl(['get', 'gadgets']);
    expect(r.rc, r.out).toBe(0);
    expect(r.stderr).toContain('No resources found');
  });

  it('P2.47 changing printer columns changes kubectl get columns and the OpenAPI hash', async () => {
    const rootBefore = JSON.parse((await emu.kubectl(['get', '--raw', '/openapi/v3'])).stdout);
    const hashBefore = rootBefore.paths['apis/example.com/v1'].serverRelativeURL;
    await emu.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g1' }, spec: { color: 'red' } }) });
    const patch = JSON.stringify([{ op: 'add', path: '/spec/versions/0/additionalPrinterColumns', value: [{ name: 'Color', type: 'string', jsonPath: '.spec.color' }] }]);
    const p = await emu.kubectl(['patch', 'crd', 'gadgets.example.com', '--type=json', '-p', patch]);
    expect(p.rc, p.out).toBe(0);
    const r = await emu.kubectl(['get', 'gadgets']);
    expect(r.stdout).toMatch(/^NAME\s+COLOR\s*$/m);
    expect(r.stdout).toMatch(/^g1\s+red\s*$/m);
    const rootAfter = JSON.parse((await emu.kubectl(['get', '--raw', '/openapi/v3'])).stdout);
    expect(rootAfter.paths['apis/example.com/v1'].serverRelativeURL).not.toBe(hashBefore);
  });

  it('P2.48 deleting a CRD deletes its objects and its endpoints', async () => {
    const d = await emu.kubectl(['delete', 'crd', 'gadgets.example.com']);
    expect(d.rc, d.out).toBe(0);
    // A warm discovery cache would still map the type (and then get a 404 list), as with a real cluster.
    const r = await emu.kubectl(['get', 'gadgets'], { env: { KUBECACHEDIR: `${emu.dir}/fresh-cache` } });
    expect(r.rc).toBe(1);
    expect(r.stderr).toContain('the server doesn\'t have a resource type "gadgets"');
    const raw = await emu.kubectl(['get', '--raw', '/apis/example.com/v1/namespaces/default/gadgets']);
    expect(raw.rc).toBe(1);
  });

  it('auth can-i answers yes for the local admin (SelfSubjectAccessReview)', async () => {
    const r = await emu.kubectl(['auth', 'can-i', 'create', 'secrets']);
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout.trim()).toBe('yes');
    const who = await emu.kubectl(['auth', 'whoami']);
    expect(who.rc, who.out).toBe(0);
    expect(who.stdout).toMatch(/^Username\s+sympozium-local-admin$/m);
  });

  it('P2.49 get --raw /readyz answers ok', async () => {
    const r = await emu.kubectl(['get', '--raw', '/readyz']);
    expect(r.rc).toBe(0);
    expect(r.stdout.trim()).toBe('ok');
  });
});

describe.skipIf(!HAS_KUBECTL)('kubectl v1.32 against the emulator: ages', () => {
  let emu: Emulator;
  let stateDir = '';
  const ages: Record<string, number> = {
    days: (3 * 24 + 4) * 3600 + 300, // 3d4h
    minutes: 45 * 60 + 10, // 45m
    long: 400 * 24 * 3600, // 400d
    years: (3 * 365 + 10) * 24 * 3600 + 60, // 3y10d
  };

  beforeAll(async () => {
    // Objects of different ages come from a state file, the way `sympozium dev` restarts with old objects.
    stateDir = mkdtempSync(join(tmpdir(), 'emu-ages-'));
    const stateFile = join(stateDir, 'state.json');
    const now = Date.now();
    const objects = Object.entries(ages).map(([name, seconds], i) => ({
      storageKey: '/secrets',
      object: {
        apiVersion: 'v1', kind: 'Secret', type: 'Opaque', data: {},
        metadata: { name, namespace: 'default', uid: `00000000-0000-4000-8000-00000000000${i}`, resourceVersion: String(i + 1),
          creationTimestamp: new Date(now - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
      },
    }));
    writeFileSync(stateFile, JSON.stringify({ version: 1, resourceVersion: objects.length, objects }));
    emu = await startEmulator({ stateFile });
  });
  afterAll(async () => {
    await emu?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('renders Age cells with upstream HumanDuration', async () => {
    const r = await emu.kubectl(['get', 'secrets']);
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toMatch(/^days\s+Opaque\s+0\s+3d4h\s*$/m);
    expect(r.stdout).toMatch(/^minutes\s+Opaque\s+0\s+45m\s*$/m);
    expect(r.stdout).toMatch(/^long\s+Opaque\s+0\s+400d\s*$/m);
    expect(r.stdout).toMatch(/^years\s+Opaque\s+0\s+3y10d\s*$/m);
  });
});
