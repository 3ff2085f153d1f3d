/**
 * Checklist §7 P1 wait/watch/selector items and P2 finalizers with the real kubectl: `wait` on jsonpath,
 * conditions (observedGeneration), create and delete; `get -w` rows and lifetime; label and field selectors
 * including a filtered watch that sees DELETED when an object leaves the selection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, eventually, fixture, HAS_KUBECTL, rawWatch, si, SI_PATH, startEmulator, type Emulator } from './helpers.js';

describe.skipIf(!HAS_KUBECTL)('kubectl v1.32 against the emulator: wait, watch, selectors', () => {
  let emu: Emulator;
  const status = (name: string, status: unknown) =>
    api(emu.server, 'PATCH', `${SI_PATH}/${name}/status`, JSON.stringify({ status }), { 'Content-Type': 'application/merge-patch+json' });

  beforeAll(async () => {
    emu = await startEmulator();
    expect((await emu.kubectl(['apply', '-f', fixture('crds.yaml')])).rc).toBe(0);
    expect((await emu.kubectl(['apply', '-f', fixture('si.yaml')])).rc).toBe(0);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('P1.19 wait --for=jsonpath is met when a controller sets status, and times out otherwise', async () => {
    const timer = setTimeout(() => void status('demo', { phase: 'Running' }), 700);
    const r = await emu.kubectl(['wait', 'si/demo', '--for=jsonpath={.status.phase}=Running', '--timeout=10s']);
    clearTimeout(timer);
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toContain('sympoziuminstance.sympozium.ai/demo condition met');
    const list = emu.server.requestLog.find((e) => e.method === 'GET' && e.path === SI_PATH && e.query.includes('fieldSelector=metadata.name%3Ddemo'));
    expect(list).toBeDefined();
    const t = await emu.kubectl(['wait', 'si/demo', '--for=jsonpath={.status.phase}=Never', '--timeout=1s']);
    expect(t.rc).toBe(1);
    expect(t.stderr).toContain('error: timed out waiting for the condition on sympoziuminstances/demo');
  });

  it('P1.20 wait --for=condition=Ready needs observedGeneration to catch up with generation', async () => {
    const obj = (await api(emu.server, 'GET', `${SI_PATH}/demo`)).json;
    const generation = obj.metadata.generation;
    await status('demo', { observedGeneration: generation - 1, conditions: [{ type: 'Ready', status: 'True', reason: 'Up', message: 'up', observedGeneration: generation - 1 }] });
    const stale = await emu.kubectl(['wait', 'si/demo', '--for=condition=Ready', '--timeout=1s']);
    expect(stale.rc).toBe(1);
    await status('demo', { observedGeneration: generation, conditions: [{ type: 'Ready', status: 'True', reason: 'Up', message: 'up', observedGeneration: generation }] });
    const ok = await emu.kubectl(['wait', 'si/demo', '--for=condition=Ready', '--timeout=5s']);
    expect(ok.rc, ok.out).toBe(0);
    expect(ok.stdout).toContain('condition met');
  });

  it('P1.21 wait --for=create and --for=delete see concurrent changes', async () => {
    const timer = setTimeout(() => void api(emu.server, 'POST', SI_PATH, si('later')), 600);
    const c = await emu.kubectl(['wait', 'si/later', '--for=create', '--timeout=10s']);
    clearTimeout(timer);
    expect(c.rc, c.out).toBe(0);
    expect(c.stdout).toContain('condition met');
    const t2 = setTimeout(() => void api(emu.server, 'DELETE', `${SI_PATH}/later`), 600);
    const d = await emu.kubectl(['wait', 'si/later', '--for=delete', '--timeout=10s']);
    clearTimeout(t2);
    expect(d.rc, d.out).toBe(0);
    expect(d.stdout).toContain('condition met');
  });

  it('P1.22 get -w prints ADDED/MODIFIED/DELETED rows and stays open without a timeout', async () => {
    await api(emu.server, 'POST', SI_PATH, si('watched'));
    const w = emu.spawnKubectl(['get', 'si', 'watched', '-w', '--output-watch-events']);
    await eventually(() => /ADDED\s+watched/.test(w.output()), 8000, 'the ADDED row');
    await api(emu.server, 'PATCH', `${SI_PATH}/watched`, '{"spec":{"replicas":4}}', { 'Content-Type': 'application/merge-patch+json' });
    await eventually(() => /MODIFIED\s+watched/.test(w.output()), 5000, 'the MODIFIED row');
    await api(emu.server, 'DELETE', `${SI_PATH}/watched`);
    await eventually(() => /DELETED\s+watched/.test(w.output()), 5000, 'the DELETED row');
    expect(w.output()).toMatch(/^EVENT\s+NAME\s+PHASE\s+MODEL\s+AGE/m);
    expect(w.output().match(/EVENT\s+NAME/g)).toHaveLength(1);
    const watchReq = emu.server.requestLog.find((e) => e.query.includes('watch=true') && e.path === SI_PATH && e.query.includes('watched'));
    expect(watchReq?.query ?? '').not.toContain('timeoutSeconds');
    await new Promise((r) => setTimeout(r, 500));
    expect(w.child.exitCode).toBeNull();
    w.child.kill();
  });

  it('P1.23 label and field selectors, and a filtered watch sees DELETED when the label goes', async () => {
    await api(emu.server, 'POST', SI_PATH, si('other', { model: 'x' }, { app: 'x' }));
    await api(emu.server, 'POST', SI_PATH, si('bare', { model: 'x' }));
    const names = async (args: string[]) => {
      const r = await emu.kubectl(['get', 'si', ...args, '-o', 'name']);
      expect(r.rc, r.out).toBe(0);
      return r.stdout.trim().split('\n').filter(Boolean).map((n) => n.split('/')[1]).sort();
    };
    expect(await names(['-l', 'app=demo'])).toEqual(['demo']);
    expect(await names(['-l', 'app in (demo,x)'])).toEqual(['demo', 'other']);
    expect(await names(['-l', '!app'])).toEqual(['bare']);
    expect(await names(['-l', 'app!=demo'])).toEqual(['bare', 'other']);
    expect(await names(['--field-selector', 'metadata.name=demo'])).toEqual(['demo']);
    const bad = await emu.kubectl(['get', 'si', '--field-selector', 'spec.foo=bar']);
    expect(bad.rc).toBe(1);
    expect(bad.stderr).toContain('field label not supported: spec.foo');

    const watch = rawWatch(emu.server, `${SI_PATH}?watch=true&labelSelector=app%3Dx`);
    await eventually(() => watch.events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'other'), 5000, 'ADDED');
    const l = await emu.kubectl(['label', 'si', 'other', 'app-']);
    expect(l.rc, l.out).toBe(0);
    await eventually(() => watch.events.some((e) => e.type === 'DELETED' && e.object.metadata.name === 'other'), 5000, 'DELETED');
    await emu.kubectl(['label', 'si', 'bare', 'app=x']);
    await eventually(() => watch.events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'bare'), 5000, 'ADDED on entering');
    watch.stop();
  });

  it('P2.41 a finalizer holds the delete (MODIFIED, still listed) until it is removed; kubectl delete waits', async () => {
    const body = si('held');
    (body.metadata as any).finalizers = ['sympozium.ai/cleanup'];
    await api(emu.server, 'POST', SI_PATH, body);
    const watch = rawWatch(emu.server, `${SI_PATH}?watch=true&fieldSelector=metadata.name%3Dheld`);
    await eventually(() => watch.events.length >= 1, 5000, 'the initial event');
    const del = emu.spawnKubectl(['delete', 'si', 'held', '--timeout=20s']);
    await eventually(() => watch.events.some((e) => e.type === 'MODIFIED' && e.object.metadata.deletionTimestamp), 8000, 'MODIFIED with deletionTimestamp');
    const listed = await emu.kubectl(['get', 'si', 'held', '-o', 'jsonpath={.metadata.deletionTimestamp}']);
    expect(listed.stdout).toMatch(/Z$/);
    expect(del.child.exitCode).toBeNull();
    await api(emu.server, 'PATCH', `${SI_PATH}/held`, '{"metadata":{"finalizers":null}}', { 'Content-Type': 'application/merge-patch+json' });
    expect(await del.exited).toBe(0);
    expect(del.output()).toContain('sympoziuminstance.sympozium.ai "held" deleted');
    await eventually(() => watch.events.some((e) => e.type === 'DELETED'), 5000, 'DELETED');
    expect((await api(emu.server, 'GET', `${SI_PATH}/held`)).status).toBe(404);
    watch.stop();
  });
});
