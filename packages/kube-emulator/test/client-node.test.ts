/**
 * Checklist §7 P1 items 29-35 and 37 with @kubernetes/client-node 1.4.0 as a real HTTP client: KubeConfig,
 * CustomObjectsApi, KubernetesObjectApi, makeInformer (with forced 410s and dropped streams) and Watch.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fixture, si, SI_PATH, startEmulator, type Emulator } from './helpers.js';

const group = 'sympozium.ai';
const version = 'v1alpha1';
const plural = 'sympoziuminstances';
const namespace = 'default';

describe('client-node 1.4.0 against the emulator', () => {
  let emu: Emulator;
  let kc: k8s.KubeConfig;
  let co: k8s.CustomObjectsApi;
  let objects: k8s.KubernetesObjectApi;

  beforeAll(async () => {
    emu = await startEmulator({ bookmarkIntervalMs: 150 });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(emu.kubeconfig);
    objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    for (const doc of readFileSync(fixture('crds.yaml'), 'utf8').split(/^---$/m)) {
      const crd = parseYaml(doc) as k8s.KubernetesObject;
      if (crd) await objects.create(crd);
    }
    co = kc.makeApiClient(k8s.CustomObjectsApi);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('P1.29 loads a kubeconfig with insecure-skip-tls-verify (https and http); http without the flag throws', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const list = await core.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toContain('default');

    const httpConfig = emu.server.kubeconfigYaml().replace(emu.server.httpsUrl, emu.server.url);
    const httpFile = join(emu.dir, 'kubeconfig-http');
    writeFileSync(httpFile, httpConfig);
    const plain = new k8s.KubeConfig();
    plain.loadFromFile(httpFile);
    expect((await plain.makeApiClient(k8s.CoreV1Api).readNamespace({ name: 'default' })).metadata?.name).toBe('default');

    const strictFile = join(emu.dir, 'kubeconfig-http-strict');
    writeFileSync(strictFile, httpConfig.replace('insecure-skip-tls-verify: true', 'insecure-skip-tls-verify: false'));
    const strict = new k8s.KubeConfig();
    strict.loadFromFile(strictFile);
    await expect(strict.makeApiClient(k8s.CoreV1Api).listNamespace()).rejects.toThrow(/HTTP protocol is not allowed/);
  });

  it('P1.30 createNamespacedCustomObject returns the body; a repeat is ApiException 409 AlreadyExists', async () => {
    const created = await co.createNamespacedCustomObject({ group, version, namespace, plural, body: si('cn1') });
    expect(created.metadata.name).toBe('cn1');
    expect(created.metadata.uid).toBeTruthy();
    const err = await co.createNamespacedCustomObject({ group, version, namespace, plural, body: si('cn1') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(k8s.ApiException);
    expect((err as k8s.ApiException<string>).code).toBe(409);
    expect(JSON.parse((err as k8s.ApiException<string>).body).reason).toBe('AlreadyExists');
  });

  it('P1.31 patchNamespacedCustomObject defaults to json-patch (400 for an object body); MergePatch works', async () => {
    const body = { spec: { replicas: 7 } };
    const err = await co.patchNamespacedCustomObject({ group, version, namespace, plural, name: 'cn1', body }).catch((e: unknown) => e);
    expect((err as k8s.ApiException<string>).code).toBe(400);
    const patched = await co.patchNamespacedCustomObject(
      { group, version, namespace, plural, name: 'cn1', body },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(patched.spec.replicas).toBe(7);
  });

  it('P1.32 KubernetesObjectApi.patch with ServerSideApply creates then updates; the default SMP is 415 on a CR', async () => {
    const spec = si('ssa', { model: 'gpt-4o', replicas: 1 }) as unknown as k8s.KubernetesObject & { spec: any };
    (spec.metadata as any).namespace = namespace;
    const before = emu.server.requestLog.length;
    const created = (await objects.patch(spec, undefined, undefined, 'sympozium-cli', true, k8s.PatchStrategy.ServerSideApply)) as any;
    expect(created.metadata.name).toBe('ssa');
    expect(emu.server.requestLog.slice(before).find((e) => e.method === 'PATCH')?.status).toBe(201);
    spec.spec.replicas = 2;
    const updated = (await objects.patch(spec, undefined, undefined, 'sympozium-cli', true, k8s.PatchStrategy.ServerSideApply)) as any;
    expect(updated.spec.replicas).toBe(2);
    expect(emu.server.requestLog.filter((e) => e.method === 'PATCH').pop()?.status).toBe(200);
    expect(updated.metadata.managedFields[0]).toMatchObject({ manager: 'sympozium-cli', operation: 'Apply' });
    const err = await objects.patch(spec).catch((e: unknown) => e);
    expect((err as k8s.ApiException<string>).code).toBe(415);
  });

  it('P1.33 reading a Secret gives a Date creationTimestamp', async () => {
    await objects.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'key', namespace }, stringData: { apiKey: 'sk-1' } } as k8s.V1Secret);
    const secret = (await objects.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'key', namespace } })) as k8s.V1Secret;
    expect(secret.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(Buffer.from(secret.data!.apiKey!, 'base64').toString()).toBe('sk-1');
    expect(secret.type).toBe('Opaque');
  });

  it('P1.34 makeInformer: add, update, delete; resumes after a dropped stream; relists after a forced 410', async () => {
    // Watch 1 is cut after 300 ms (like a server timeout): the informer must re-watch from its last
    // resourceVersion without relisting. Watch 2 gets ERROR 410 Expired then closes: the informer must relist.
    emu.server.faults.add({ path: SI_PATH, watch: true, dropWatchAfterMs: 300 });
    emu.server.faults.add({ path: SI_PATH, watch: true, expireWatch: true });
    const informer = k8s.makeInformer(kc, SI_PATH, () => co.listNamespacedCustomObject({ group, version, namespace, plural }) as any);
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add:${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update:${o.metadata?.name}`));
    informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    try {
      await informer.start();
      await eventually(() => seen.includes('add:cn1') && seen.includes('add:ssa'), 5000, 'initial adds');
      const reads = () => emu.server.requestLog.filter((e) => e.path === SI_PATH && e.method === 'GET').map((e) => (e.query.includes('watch=true') ? 'watch' : 'list'));
      await eventually(() => reads().filter((r) => r === 'watch').length >= 3, 8000, 'a dropped, an expired and a third watch');
      const sequence = reads();
      const first = sequence.indexOf('list');
      expect(sequence.slice(first, first + 5)).toEqual(['list', 'watch', 'watch', 'list', 'watch']);
      const rewatch = emu.server.requestLog.filter((e) => e.path === SI_PATH && e.query.includes('watch=true'))[1]!;
      expect(rewatch.query).toMatch(/resourceVersion=\d+/);

      await co.createNamespacedCustomObject({ group, version, namespace, plural, body: si('informed') });
      await eventually(() => seen.includes('add:informed'), 5000, 'add of a new object');
      await co.patchNamespacedCustomObject(
        { group, version, namespace, plural, name: 'informed', body: { spec: { replicas: 9 } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await eventually(() => seen.includes('update:informed'), 5000, 'update');
      await co.deleteNamespacedCustomObject({ group, version, namespace, plural, name: 'informed' });
      await eventually(() => seen.includes('delete:informed'), 5000, 'delete');
      for (const name of ['cn1', 'ssa', 'informed']) expect(seen.filter((s) => s === `add:${name}`)).toHaveLength(1);
      expect(informer.list(namespace).map((o) => o.metadata?.name).sort()).toEqual(['cn1', 'ssa']);
    } finally {
      await informer.stop();
      emu.server.faults.clear();
    }
    expect(errors.filter((e) => (e as Error)?.name !== 'AbortError')).toEqual([]);
  });

  it('P1.35 Watch with allowWatchBookmarks receives BOOKMARK events carrying only the resourceVersion', async () => {
    const watch = new k8s.Watch(kc);
    const list = await co.listNamespacedCustomObject({ group, version, namespace, plural });
    const bookmarks: any[] = [];
    const req = await watch.watch(SI_PATH, { allowWatchBookmarks: true, resourceVersion: list.metadata.resourceVersion }, (type, obj) => {
      if (type === 'BOOKMARK') bookmarks.push(obj);
    }, () => {});
    await eventually(() => bookmarks.length > 0, 5000, 'a bookmark');
    req.abort();
    expect(bookmarks[0]).toEqual({ kind: 'SympoziumInstance', apiVersion: 'sympozium.ai/v1alpha1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });
  });

  it('P1.37 deleteNamespacedCustomObject returns a Success Status; the watch DELETED RV is above the last MODIFIED', async () => {
    await co.createNamespacedCustomObject({ group, version, namespace, plural, body: si('doomed') });
    const events: Array<{ type: string; rv: number }> = [];
    const watch = new k8s.Watch(kc);
    const req = await watch.watch(SI_PATH, { fieldSelector: 'metadata.name=doomed' }, (type, obj) => {
      events.push({ type, rv: Number(obj.metadata.resourceVersion) });
    }, () => {});
    await eventually(() => events.length === 1, 5000, 'ADDED');
    await co.patchNamespacedCustomObject({ group, version, namespace, plural, name: 'doomed', body: { spec: { replicas: 3 } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const status = await co.deleteNamespacedCustomObject({ group, version, namespace, plural, name: 'doomed' });
    expect(status).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'doomed', group, kind: plural } });
    await eventually(() => events.some((e) => e.type === 'DELETED'), 5000, 'DELETED');
    req.abort();
    const modified = events.find((e) => e.type === 'MODIFIED')!;
    const deleted = events.find((e) => e.type === 'DELETED')!;
    expect(deleted.rv).toBeGreaterThan(modified.rv);
  });
});
