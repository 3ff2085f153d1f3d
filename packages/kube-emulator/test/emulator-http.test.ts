/**
 * Emulator behaviour below the client libraries, over real HTTP: authentication, content types, discovery and
 * OpenAPI documents, watch replay/410/timeouts/Table frames, pagination, deletecollection, strategic merge
 * directives, SSA on keyed lists, CRD validation, namespace cascade, the test hooks (faults, request log over
 * HTTP) and persistence to a state file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../src/index.js';
import { api, eventually, fixture, rawWatch, si, SI_PATH, startEmulator, type Emulator } from './helpers.js';

async function installCrds(emu: Emulator): Promise<void> {
  for (const doc of readFileSync(fixture('crds.yaml'), 'utf8').split(/^---$/m)) {
    const crd = parseYaml(doc);
    if (crd) expect((await api(emu.server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201);
  }
}

describe('emulator HTTP surface', () => {
  let emu: Emulator;

  beforeAll(async () => {
    emu = await startEmulator({ watchWindow: 20 });
    await installCrds(emu);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('requires the bearer token (401 Status) except on version and health, and answers JSON', async () => {
    const anonymous = await fetch(`${emu.server.url}/api/v1/namespaces`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toBe('application/json');
    expect(await anonymous.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    const wrong = await fetch(`${emu.server.url}/__emulator/requests`, { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${emu.server.url}/version`)).status).toBe(200);
    const ok = await api(emu.server, 'GET', '/api/v1/namespaces/default');
    expect(ok.headers.get('content-type')).toBe('application/json');
    const missing = await api(emu.server, 'GET', '/api/v1/namespaces/default/secrets/none');
    expect(missing.json).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'secrets "none" not found', reason: 'NotFound',
      details: { name: 'none', group: '', kind: 'secrets' }, code: 404,
    });
    const withRv = await api(emu.server, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'rv', resourceVersion: '5' } });
    expect(withRv.status).toBe(500);
    expect(withRv.json.message).toBe('Internal error occurred: resourceVersion should not be set on objects to be created');
    const unknown = await api(emu.server, 'GET', '/apis/nope.io/v1/things');
    expect(unknown.status).toBe(404);
    expect(unknown.json.message).toBe('the server could not find the requested resource');
  });

  it('serves aggregated and legacy discovery from one registry', async () => {
    const agg = await api(emu.server, 'GET', '/apis', undefined, { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' });
    expect(agg.headers.get('content-type')).toBe('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const sympozium = agg.json.items.find((g: any) => g.metadata.name === 'sympozium.ai');
    const siEntry = sympozium.versions[0].resources.find((r: any) => r.resource === 'sympoziuminstances');
    expect(siEntry).toMatchObject({ scope: 'Namespaced', singularResource: 'sympoziuminstance', shortNames: ['si'], subresources: [{ subresource: 'status' }] });
    const core = await api(emu.server, 'GET', '/api', undefined, { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' });
    expect(core.json.items[0].metadata.name).toBe('');
    expect((await api(emu.server, 'GET', '/api')).json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await api(emu.server, 'GET', '/apis')).json;
    expect(groups.kind).toBe('APIGroupList');
    expect(groups.groups.map((g: any) => g.name)).toEqual(expect.arrayContaining(['apps', 'apiextensions.k8s.io', 'gateway.networking.k8s.io', 'sympozium.ai']));
    const list = (await api(emu.server, 'GET', '/apis/sympozium.ai/v1alpha1')).json;
    expect(list.resources.map((r: any) => r.name)).toEqual(expect.arrayContaining(['sympoziuminstances', 'sympoziuminstances/status', 'skillpacks']));
  });

  it('serves OpenAPI v3 with PATCH + fieldValidation, a content hash and ETag, and the 5-byte v2 stub', async () => {
    const root = (await api(emu.server, 'GET', '/openapi/v3')).json;
    const url = root.paths['apis/sympozium.ai/v1alpha1'].serverRelativeURL as string;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/sympozium\.ai\/v1alpha1\?hash=[0-9A-F]{128}$/);
    const doc = await api(emu.server, 'GET', url);
    const patch = doc.json.paths['/apis/sympozium.ai/v1alpha1/namespaces/{namespace}/sympoziuminstances/{name}'].patch;
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'sympozium.ai', version: 'v1alpha1', kind: 'SympoziumInstance' });
    expect(patch.parameters.map((p: any) => p.name)).toEqual(expect.arrayContaining(['fieldValidation', 'dryRun', 'fieldManager', 'force']));
    expect(doc.json.components.schemas['ai.sympozium.v1alpha1.SympoziumInstance'].properties.spec.properties.model.type).toBe('string');
    const etag = doc.headers.get('etag')!;
    const cached = await fetch(`${emu.server.url}${url}`, { headers: { Authorization: `Bearer ${emu.server.token}`, 'If-None-Match': etag } });
    expect(cached.status).toBe(304);
    const core = (await api(emu.server, 'GET', root.paths['api/v1'].serverRelativeURL)).json;
    expect(core.paths['/api/v1/namespaces/{name}'].patch.parameters.some((p: any) => p.name === 'fieldValidation')).toBe(true);
    const v2 = await fetch(`${emu.server.url}/openapi/v2`, { headers: { Authorization: `Bearer ${emu.server.token}` } });
    expect(v2.headers.get('content-type')).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    expect([...new Uint8Array(await v2.arrayBuffer())]).toEqual([0x0a, 0x03, 0x32, 0x2e, 0x30]);
  });

  it('watch: synthetic ADDED from RV 0, replay from an RV, 410 then close for an expired RV, timeoutSeconds closes', async () => {
    await api(emu.server, 'POST', SI_PATH, si('w1'));
    const rv = (await api(emu.server, 'GET', SI_PATH)).json.metadata.resourceVersion;
    await api(emu.server, 'POST', SI_PATH, si('w2'));
    const fromZero = rawWatch(emu.server, `${SI_PATH}?watch=true&resourceVersion=0&timeoutSeconds=1`);
    const replay = rawWatch(emu.server, `${SI_PATH}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
    await Promise.all([fromZero.ended, replay.ended]);
    expect(fromZero.events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['ADDED:w1', 'ADDED:w2']);
    expect(replay.events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['ADDED:w2']);
    // Push the window (20 events) past `rv`.
    for (let i = 0; i < 25; i++) await api(emu.server, 'PATCH', `${SI_PATH}/w1`, JSON.stringify({ spec: { replicas: i + 10 } }), { 'Content-Type': 'application/merge-patch+json' });
    const expired = rawWatch(emu.server, `${SI_PATH}?watch=true&resourceVersion=${rv}`);
    await expired.ended;
    expect(expired.events).toHaveLength(1);
    expect(expired.events[0]!.type).toBe('ERROR');
    expect(expired.events[0]!.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    expect(expired.events[0]!.object.message).toMatch(new RegExp(`^too old resource version: ${rv} \\(\\d+\\)$`));
  });

  it('watch list (sendInitialEvents) ends the initial state with an annotated bookmark', async () => {
    const w = rawWatch(emu.server, `${SI_PATH}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1`);
    await w.ended;
    const bookmark = w.events.findIndex((e) => e.type === 'BOOKMARK');
    expect(bookmark).toBeGreaterThan(0);
    expect(w.events.slice(0, bookmark).every((e) => e.type === 'ADDED')).toBe(true);
    expect(w.events[bookmark]!.object.metadata.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
  });

  it('watch with a Table Accept sends column headers on the first event only', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const w = rawWatch(emu.server, `${SI_PATH}?watch=true&timeoutSeconds=1`, { Accept: accept });
    await w.ended;
    expect(w.events.length).toBeGreaterThanOrEqual(2);
    expect(w.events[0]!.object.kind).toBe('Table');
    expect(w.events[0]!.object.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Phase', 'Model', 'Replicas', 'Age']);
    expect(w.events[1]!.object.columnDefinitions).toBeNull();
    expect(w.events[1]!.object.rows).toHaveLength(1);
  });

  it('lists paginate with limit/continue and deletecollection honours selectors', async () => {
    for (const n of ['p1', 'p2', 'p3']) await api(emu.server, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: n, labels: { batch: 'x' } }, data: { a: n } });
    const first = (await api(emu.server, 'GET', '/api/v1/namespaces/default/configmaps?limit=2&labelSelector=batch%3Dx')).json;
    expect(first.items.map((i: any) => i.metadata.name)).toEqual(['p1', 'p2']);
    expect(first.metadata.remainingItemCount).toBe(1);
    const second = (await api(emu.server, 'GET', `/api/v1/namespaces/default/configmaps?limit=2&labelSelector=batch%3Dx&continue=${first.metadata.continue}`)).json;
    expect(second.items.map((i: any) => i.metadata.name)).toEqual(['p3']);
    expect(second.metadata.continue).toBeUndefined();
    const bad = await api(emu.server, 'GET', '/api/v1/namespaces/default/configmaps?labelSelector=a%20in%20(');
    expect(bad.status).toBe(400);
    const dc = await api(emu.server, 'DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=batch%3Dx');
    expect(dc.status).toBe(200);
    expect((await api(emu.server, 'GET', '/api/v1/namespaces/default/configmaps')).json.items).toEqual([]);
  });

  it('strategic merge patch honours merge keys and $patch/$setElementOrder/$deleteFromPrimitiveList directives', async () => {
    const deploy = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'smp', finalizers: ['a', 'b'] },
      spec: { selector: { matchLabels: { app: 'smp' } }, template: { metadata: { labels: { app: 'smp' } }, spec: { containers: [
        { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] },
        { name: 'b', image: 'b:1' },
      ] } } },
    };
    expect((await api(emu.server, 'POST', '/apis/apps/v1/namespaces/default/deployments', deploy)).status).toBe(201);
    const patch = {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: { template: { spec: {
        '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
        containers: [{ name: 'a', image: 'a:2', env: [{ name: 'Y', $patch: 'delete' }, { name: 'Z', value: '3' }] }],
      } } },
    };
    const r = await api(emu.server, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/smp', patch, { 'Content-Type': 'application/strategic-merge-patch+json' });
    expect(r.status).toBe(200);
    const containers = r.json.spec.template.spec.containers;
    expect(containers.map((c: any) => `${c.name}=${c.image}`)).toEqual(['b=b:1', 'a=a:2']);
    expect(containers[1].env).toEqual([{ name: 'X', value: '1' }, { name: 'Z', value: '3' }]);
    expect(r.json.metadata.finalizers).toEqual(['b']);
    await api(emu.server, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/smp', { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
  });

  it('server-side apply merges keyed lists, removes fields the manager stops applying, and reports conflicts with causes', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments/ssa';
    const applied = (containers: unknown[]) => JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ssa' }, spec: { selector: { matchLabels: { app: 'ssa' } }, template: { metadata: { labels: { app: 'ssa' } }, spec: { containers } } } });
    const headers = { 'Content-Type': 'application/apply-patch+yaml' };
    const first = await api(emu.server, 'PATCH', `${path}?fieldManager=one`, applied([{ name: 'web', image: 'nginx:1' }]), headers);
    expect(first.status).toBe(201);
    const second = await api(emu.server, 'PATCH', `${path}?fieldManager=two`, applied([{ name: 'side', image: 'busybox:1' }]), headers);
    expect(second.status).toBe(200);
    expect(second.json.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['web', 'side']);
    const conflict = await api(emu.server, 'PATCH', `${path}?fieldManager=two`, applied([{ name: 'side', image: 'busybox:1' }, { name: 'web', image: 'nginx:2' }]), headers);
    expect(conflict.status).toBe(409);
    expect(conflict.json.message).toBe('Apply failed with 1 conflict: conflict with "one": .spec.template.spec.containers[name="web"].image');
    expect(conflict.json.details.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "one"', field: '.spec.template.spec.containers[name="web"].image' }]);
    const dropped = await api(emu.server, 'PATCH', `${path}?fieldManager=two`, applied([]).replace('"containers":[]', '"containers":[{"name":"web","image":"nginx:1"}]'), headers);
    expect(dropped.status).toBe(200);
    expect(dropped.json.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['web']);
    const noManager = await api(emu.server, 'PATCH', path, applied([]), headers);
    expect(noManager.status).toBe(400);
  });

  it('keeps a Service\'s allocated cluster IP across an update that leaves it out', async () => {
    const svc = { metadata: { name: 'ip' }, spec: { selector: { app: 'ip' }, ports: [{ port: 80 }] } };
    const created = await api(emu.server, 'POST', '/api/v1/namespaces/default/services', svc);
    expect(created.json.spec.clusterIP).toMatch(/^10\.96\./);
    expect(created.json.spec.ports).toEqual([{ port: 80, protocol: 'TCP', targetPort: 80 }]);
    const put = await api(emu.server, 'PUT', '/api/v1/namespaces/default/services/ip', { ...svc, metadata: { ...svc.metadata, resourceVersion: created.json.metadata.resourceVersion } });
    expect(put.status).toBe(200);
    expect(put.json.spec.clusterIP).toBe(created.json.spec.clusterIP);
  });

  it('validates CRDs (422) and cascades namespace deletion', async () => {
    const bad = await api(emu.server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'wrong.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { kind: 'Thing', plural: 'things' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.message).toBe('CustomResourceDefinition.apiextensions.k8s.io "wrong.example.com" is invalid: metadata.name: Invalid value: "wrong.example.com": must be spec.names.plural+"."+spec.group');
    expect((await api(emu.server, 'POST', '/api/v1/namespaces', { metadata: { name: 'temp' } })).status).toBe(201);
    expect((await api(emu.server, 'POST', '/api/v1/namespaces/temp/secrets', { metadata: { name: 's' }, stringData: { a: 'b' } })).json.data).toEqual({ a: 'Yg==' });
    const del = await api(emu.server, 'DELETE', '/api/v1/namespaces/temp');
    expect(del.status).toBe(200);
    expect((await api(emu.server, 'GET', '/api/v1/namespaces/temp/secrets/s')).status).toBe(404);
  });

  it('serves SelfSubjectAccessReview as allowed and stores HTTPRoutes (415 for strategic merge, like a CRD)', async () => {
    const review = await api(emu.server, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'create', resource: 'secrets' } },
    });
    expect(review.status).toBe(201);
    expect(review.json.status.allowed).toBe(true);
    const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web' }, spec: { hostnames: ['a.local'], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] } };
    const created = await api(emu.server, 'POST', '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes', route);
    expect(created.status).toBe(201);
    expect(created.json.metadata.generation).toBe(1);
    const smp = await api(emu.server, 'PATCH', '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/web', { spec: {} }, { 'Content-Type': 'application/strategic-merge-patch+json' });
    expect(smp.status).toBe(415);
  });

  it('exposes fault injection and the request log over HTTP', async () => {
    const add = await api(emu.server, 'POST', '/__emulator/faults', { method: 'GET', path: '/api/v1/namespaces/default/secrets', respond: { status: 503, message: 'try later' }, times: 2 });
    expect(add.status).toBe(201);
    for (let i = 0; i < 2; i++) {
      const r = await api(emu.server, 'GET', '/api/v1/namespaces/default/secrets');
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', message: 'try later', code: 503 });
    }
    expect((await api(emu.server, 'GET', '/api/v1/namespaces/default/secrets')).status).toBe(200);
    await api(emu.server, 'POST', '/__emulator/faults', { path: '/api/v1/namespaces/default/configmaps', respond: { status: 500 } });
    expect((await api(emu.server, 'DELETE', '/__emulator/faults')).status).toBe(200);
    expect((await api(emu.server, 'GET', '/api/v1/namespaces/default/configmaps')).status).toBe(200);
    const log = (await api(emu.server, 'GET', '/__emulator/requests')).json.items;
    const entry = log.filter((e: any) => e.path === '/api/v1/namespaces/default/secrets').pop();
    expect(entry).toMatchObject({ method: 'GET', status: 200, query: '' });
    expect(entry.headers['user-agent']).toBeTruthy();
  });
});

describe('emulator CRD establishment delay', () => {
  it('serves a CRD\'s resources only once it is Established', async () => {
    const emu = await startEmulator({ crdEstablishDelayMs: 300 });
    try {
      const crd = parseYaml(readFileSync(fixture('crds.yaml'), 'utf8').split(/^---$/m)[1]!);
      const created = await api(emu.server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
      expect(created.status).toBe(201);
      expect(created.json.status.conditions).toEqual([]);
      const path = '/apis/sympozium.ai/v1alpha1/namespaces/default/agentruns';
      expect((await api(emu.server, 'GET', path)).status).toBe(404);
      await eventually(async () => (await api(emu.server, 'GET', path)).status === 200, 5000, 'the CRD to be served');
      const crdNow = (await api(emu.server, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/agentruns.sympozium.ai')).json;
      expect(crdNow.status.conditions.find((c: any) => c.type === 'Established')).toMatchObject({ status: 'True', reason: 'InitialNamesAccepted' });
      expect(crdNow.status.acceptedNames).toMatchObject({ kind: 'AgentRun', plural: 'agentruns', singular: 'agentrun', listKind: 'AgentRunList' });
    } finally {
      await emu.close();
    }
  });
});

describe('emulator persistence', () => {
  it('keeps objects, resourceVersions and CRDs across a restart through an atomically written state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-state-'));
    const stateFile = join(dir, 'state.json');
    try {
      const first = await startEmulator({ stateFile });
      await installCrds(first);
      const created = await api(first.server, 'POST', SI_PATH, si('kept'));
      await first.close();
      expect(existsSync(stateFile)).toBe(true);
      // A crash mid-write leaves only a temp file behind; the state file itself is never half-written.
      writeFileSync(`${stateFile}.12345.tmp`, '{"trunc');
      const second = await startApiServer({ stateFile });
      try {
        const got = await api(second, 'GET', `${SI_PATH}/kept`);
        expect(got.status).toBe(200);
        expect(got.json.metadata.uid).toBe(created.json.metadata.uid);
        const next = await api(second, 'POST', SI_PATH, si('new'));
        expect(Number(next.json.metadata.resourceVersion)).toBeGreaterThan(Number(created.json.metadata.resourceVersion));
        await eventually(() => JSON.parse(readFileSync(stateFile, 'utf8')).objects.some((o: any) => o.object.metadata.name === 'new'), 3000, 'the state file to be rewritten');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('emulator connection limits', () => {
  it('closes connections that never send a byte, and keeps those that do', async () => {
    const net = await import('node:net');
    const server = await startApiServer({ firstByteTimeoutMs: 300 });
    try {
      const { port } = new URL(server.url);
      const open = (speak: boolean) =>
        new Promise<{ closedAfterMs: number | undefined; socket: import('node:net').Socket }>((resolve) => {
          const socket = net.connect(Number(port), '127.0.0.1', () => {
            if (speak) socket.write('GET /version HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
          });
          const started = Date.now();
          socket.on('data', () => undefined);
          socket.on('error', () => undefined);
          socket.on('close', () => resolve({ closedAfterMs: Date.now() - started, socket }));
          setTimeout(() => resolve({ closedAfterMs: undefined, socket }), 1_500);
        });
      const [silent, spoken] = await Promise.all([Promise.all(Array.from({ length: 20 }, () => open(false))), open(true)]);
      for (const entry of silent) expect(entry.closedAfterMs).toBeLessThan(1_500);
      expect(spoken.closedAfterMs).toBeUndefined();
      spoken.socket.destroy();
    } finally {
      await server.close();
    }
  });
});

describe('Events expire after their TTL, as kube-apiserver --event-ttl makes them', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ eventTtlMs: 400 });
  });
  afterAll(async () => {
    await emu?.close();
  });

  const event = (name: string, message: string) => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace: 'default' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'p' },
    reason: 'Pulled',
    message,
    type: 'Normal',
  });

  it('an Event is gone once its last write is older than the TTL, with a DELETED watch event; a rewrite renews it; other kinds stay', async () => {
    const path = '/api/v1/namespaces/default/events';
    const start = await api(emu.server, 'GET', path);
    const watch = rawWatch(emu.server, `${path}?watch=1&resourceVersion=${start.json.metadata.resourceVersion}`);
    try {
      expect((await api(emu.server, 'POST', path, event('old', 'first'))).status).toBe(201);
      expect((await api(emu.server, 'POST', path, event('renewed', 'first'))).status).toBe(201);
      expect((await api(emu.server, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stays' } })).status).toBe(201);
      // Half a TTL later one Event is written again, which starts its lease over (etcd keys the lease to the write).
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect((await api(emu.server, 'PATCH', `${path}/renewed`, { message: 'again' }, { 'Content-Type': 'application/merge-patch+json' })).status).toBe(200);
      await eventually(async () => (await api(emu.server, 'GET', `${path}/old`)).status === 404, 3_000, 'the old Event to expire');
      expect((await api(emu.server, 'GET', `${path}/renewed`)).status).toBe(200);
      await eventually(async () => (await api(emu.server, 'GET', `${path}/renewed`)).status === 404, 3_000, 'the renewed Event to expire too');
      expect((await api(emu.server, 'GET', '/api/v1/namespaces/default/configmaps/stays')).status).toBe(200);
      await eventually(() => watch.events.filter((e) => e.type === 'DELETED').length === 2, 3_000, 'two DELETED watch events');
      expect(watch.events.filter((e) => e.type === 'DELETED').map((e) => (e.object as { metadata: { name: string } }).metadata.name)).toEqual(['old', 'renewed']);
    } finally {
      watch.stop();
    }
  });
});
