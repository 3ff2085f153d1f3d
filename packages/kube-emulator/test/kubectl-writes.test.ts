/**
 * Checklist §7 P1/P2 write paths with the real kubectl: typed creates (protobuf), client- and server-side apply,
 * the three patch types, the status subresource, generation, strategic merge for built-ins, upstream columns,
 * and the P2 metadata/concurrency/validation edge cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, fixture, HAS_KUBECTL, si, SI_PATH, startEmulator, type Emulator } from './helpers.js';

describe.skipIf(!HAS_KUBECTL)('kubectl v1.32 against the emulator: writes', () => {
  let emu: Emulator;
  const getSi = async (name = 'demo') => JSON.parse((await emu.kubectl(['get', 'si', name, '-o', 'json'])).stdout);

  beforeAll(async () => {
    emu = await startEmulator();
    const r = await emu.kubectl(['apply', '-f', fixture('crds.yaml')]);
    expect(r.rc, r.out).toBe(0);
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('P1.11 create secret generic (protobuf) stores base64 data and type Opaque; a repeat is AlreadyExists', async () => {
    const r = await emu.kubectl(['create', 'secret', 'generic', 's1', '--from-literal=apiKey=sk-123']);
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toContain('secret/s1 created');
    const post = emu.server.requestLog.filter((e) => e.method === 'POST' && e.path.endsWith('/secrets')).pop();
    expect(post?.headers['content-type']).toBe('application/vnd.kubernetes.protobuf');
    const data = await emu.kubectl(['get', 'secret', 's1', '-o', 'jsonpath={.data.apiKey}']);
    expect(Buffer.from(data.stdout, 'base64').toString()).toBe('sk-123');
    expect((await emu.kubectl(['get', 'secret', 's1', '-o', 'jsonpath={.type}'])).stdout).toBe('Opaque');
    const again = await emu.kubectl(['create', 'secret', 'generic', 's1', '--from-literal=apiKey=sk-123']);
    expect(again.rc).toBe(1);
    expect(again.stderr).toContain('error: failed to create secret secrets "s1" already exists');
  });

  it('P1.12 a client-side dry-run manifest piped into apply creates the secret', async () => {
    const yaml = await emu.kubectl(['create', 'secret', 'generic', 's2', '--from-literal=a=b', '--dry-run=client', '-o', 'yaml']);
    const r = await emu.kubectl(['apply', '-f', '-'], { input: yaml.stdout });
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toContain('secret/s2 created');
  });

  it('P1.13 server-side apply, a conflict for another manager, then --force-conflicts; managedFields show Apply', async () => {
    const r = await emu.kubectl(['apply', '--server-side', '-f', fixture('si.yaml')]);
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toContain('sympoziuminstance.sympozium.ai/demo serverside-applied');
    const c = await emu.kubectl(['apply', '--server-side', '--field-manager=other', '-f', fixture('si-changed.yaml')]);
    expect(c.rc).toBe(1);
    expect(c.stderr).toMatch(/Apply failed with 2 conflicts: conflicts with "kubectl":\n- \.spec\.model\n- \.spec\.replicas/);
    const f = await emu.kubectl(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', fixture('si-changed.yaml')]);
    expect(f.rc, f.out).toBe(0);
    const y = await emu.kubectl(['get', 'si', 'demo', '-o', 'yaml', '--show-managed-fields']);
    expect(y.stdout).toMatch(/manager: kubectl\n\s+operation: Apply/);
    expect(y.stdout).toMatch(/manager: other\n\s+operation: Apply/);
    const obj = await getSi();
    expect(obj.spec).toMatchObject({ model: 'gpt-4o-mini', replicas: 2 });
  });

  it('P1.14 merge patch, and the same patch again is "(no change)" with the resourceVersion unchanged', async () => {
    const p = await emu.kubectl(['patch', 'si', 'demo', '--type=merge', '-p', '{"spec":{"replicas":3}}']);
    expect(p.stdout).toContain('sympoziuminstance.sympozium.ai/demo patched');
    const rv = (await getSi()).metadata.resourceVersion;
    const again = await emu.kubectl(['patch', 'si', 'demo', '--type=merge', '-p', '{"spec":{"replicas":3}}']);
    expect(again.stdout).toContain('sympoziuminstance.sympozium.ai/demo patched (no change)');
    expect((await getSi()).metadata.resourceVersion).toBe(rv);
  });

  it('P1.15 JSON patch replaces a value; an op on a missing path fails with 422', async () => {
    const p = await emu.kubectl(['patch', 'si', 'demo', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":5}]']);
    expect(p.rc, p.out).toBe(0);
    expect((await getSi()).spec.replicas).toBe(5);
    const bad = await emu.kubectl(['patch', 'si', 'demo', '--type=json', '-p', '[{"op":"replace","path":"/spec/nope/x","value":5}]']);
    expect(bad.rc).toBe(1);
    expect(bad.stderr).toContain('doc is missing path: /spec/nope/x');
    const last = emu.server.requestLog.filter((e) => e.method === 'PATCH').pop();
    expect(last?.status).toBe(422);
  });

  it('P1.16 strategic merge patch on a custom resource is 415 with upstream\'s message', async () => {
    const r = await emu.kubectl(['patch', 'si', 'demo', '--type=strategic', '-p', '{"spec":{"replicas":1}}']);
    expect(r.rc).toBe(1);
    expect(r.stderr).toContain(
      'application/strategic-merge-patch+json is not supported by sympozium.ai/v1alpha1, Kind=SympoziumInstance: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
  });

  it('P1.17/18 the status subresource changes only status; generation follows spec changes only', async () => {
    const before = await getSi();
    const s = await emu.kubectl(['patch', 'si', 'demo', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}']);
    expect(s.rc, s.out).toBe(0);
    let obj = await getSi();
    expect(obj.status.phase).toBe('Running');
    expect(obj.metadata.generation).toBe(before.metadata.generation);
    const main = await emu.kubectl(['patch', 'si', 'demo', '--type=merge', '-p', '{"status":{"phase":"X"}}']);
    expect(main.stdout).toContain('(no change)');
    expect((await getSi()).status.phase).toBe('Running');
    await emu.kubectl(['label', 'si', 'demo', 'tier=gold']);
    obj = await getSi();
    expect(obj.metadata.labels.tier).toBe('gold');
    expect(obj.metadata.generation).toBe(before.metadata.generation);
    await emu.kubectl(['patch', 'si', 'demo', '--type=merge', '-p', '{"spec":{"model":"llama3"}}']);
    expect((await getSi()).metadata.generation).toBe(before.metadata.generation + 1);
  });

  it('P1.24 apply of a Deployment and a Service, then a changed image and port through strategic merge patch', async () => {
    const r = await emu.kubectl(['apply', '-f', fixture('deploy-svc.yaml')]);
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toContain('deployment.apps/web created');
    expect(r.stdout).toContain('service/web created');
    const c = await emu.kubectl(['apply', '-f', fixture('deploy-svc-changed.yaml')]);
    expect(c.rc, c.out).toBe(0);
    expect(c.stdout).toContain('deployment.apps/web configured');
    expect(c.stdout).toContain('service/web configured');
    const smp = emu.server.requestLog.filter((e) => e.method === 'PATCH' && e.path.endsWith('/services/web')).pop();
    expect(smp?.headers['content-type']).toBe('application/strategic-merge-patch+json');
    const svc = JSON.parse((await emu.kubectl(['get', 'svc', 'web', '-o', 'json'])).stdout);
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 81, protocol: 'TCP', targetPort: 8080 }]);
    const deploy = JSON.parse((await emu.kubectl(['get', 'deploy', 'web', '-o', 'json'])).stdout);
    const containers = deploy.spec.template.spec.containers;
    expect(containers.map((x: any) => `${x.name}=${x.image}`)).toEqual(['web=nginx:1.27', 'sidecar=busybox:1.36']);
    expect(containers[0].ports).toEqual([{ containerPort: 8080, name: 'http', protocol: 'TCP' }]);
    expect(deploy.metadata.generation).toBe(2);
  });

  it('kubectl scale goes through the Deployment scale subresource', async () => {
    const r = await emu.kubectl(['scale', 'deploy', 'web', '--replicas=3']);
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toContain('deployment.apps/web scaled');
    expect(emu.server.requestLog.some((e) => e.method === 'PATCH' && e.path.endsWith('/deployments/web/scale'))).toBe(true);
    expect((await emu.kubectl(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('3');
    const back = await emu.kubectl(['scale', 'deploy', 'web', '--replicas=1']);
    expect(back.rc, back.out).toBe(0);
  });

  it('built-in validation: selector must match the template and is immutable; immutable Secrets stay put', async () => {
    const deploy = (selector: string, label: string) => JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: selector } }, template: { metadata: { labels: { app: label } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
    });
    const mismatch = await emu.kubectl(['apply', '-f', '-'], { input: deploy('web', 'other') });
    expect(mismatch.rc).toBe(1);
    expect(mismatch.stderr).toContain('spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`');
    const changed = await emu.kubectl(['apply', '-f', '-'], { input: deploy('web2', 'web2') });
    expect(changed.rc).toBe(1);
    expect(changed.stderr).toContain('spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable');
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'frozen' }, immutable: true, stringData: { a: 'b' } };
    expect((await emu.kubectl(['apply', '-f', '-'], { input: JSON.stringify(secret) })).rc).toBe(0);
    const thawed = await emu.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ ...secret, stringData: { a: 'c' } }) });
    expect(thawed.rc).toBe(1);
    expect(thawed.stderr).toContain('data: Forbidden: field is immutable when `immutable` is set');
  });

  it('P1.25 built-ins print upstream columns', async () => {
    const secrets = await emu.kubectl(['get', 'secrets']);
    expect(secrets.stdout).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\s*$/m);
    expect(secrets.stdout).toMatch(/^s1\s+Opaque\s+1\s+\d+s\s*$/m);
    const svc = await emu.kubectl(['get', 'svc']);
    expect(svc.stdout).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s*$/m);
    expect(svc.stdout).toMatch(/^web\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+81\/TCP\s+\d+s\s*$/m);
    const deploy = await emu.kubectl(['get', 'deploy']);
    expect(deploy.stdout).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s*$/m);
    expect(deploy.stdout).toMatch(/^web\s+0\/1\s+0\s+0\s+\d+s\s*$/m);
    const ns = await emu.kubectl(['get', 'ns']);
    expect(ns.stdout).toMatch(/^default\s+Active\s+\d+s\s*$/m);
  });

  it('describe shows the object and its Events (field-selected by involvedObject)', async () => {
    const obj = await getSi();
    const event = {
      metadata: { name: 'demo.1' },
      involvedObject: { apiVersion: 'sympozium.ai/v1alpha1', kind: 'SympoziumInstance', name: 'demo', namespace: 'default', uid: obj.metadata.uid },
      reason: 'Provisioned', message: 'agents are up', type: 'Normal', source: { component: 'sympozium-controller' },
      firstTimestamp: obj.metadata.creationTimestamp, lastTimestamp: obj.metadata.creationTimestamp, count: 1,
    };
    expect((await api(emu.server, 'POST', '/api/v1/namespaces/default/events', event)).status).toBe(201);
    const r = await emu.kubectl(['describe', 'si', 'demo']);
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toMatch(/^Name:\s+demo$/m);
    expect(r.stdout).toMatch(/Normal\s+Provisioned\s+\S+\s+sympozium-controller\s+agents are up/);
  });

  it('P2.38 a stale resourceVersion on PUT is a Conflict; a custom resource PUT without one is Invalid', async () => {
    const obj = await getSi();
    const stale = { ...obj, metadata: { ...obj.metadata, resourceVersion: '1' } };
    const r = await api(emu.server, 'PUT', `${SI_PATH}/demo`, stale);
    expect(r.status).toBe(409);
    expect(r.json.reason).toBe('Conflict');
    expect(r.json.message).toBe(
      'Operation cannot be fulfilled on sympoziuminstances.sympozium.ai "demo": the object has been modified; please apply your changes to the latest version and try again',
    );
    const noRv = { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
    const i = await api(emu.server, 'PUT', `${SI_PATH}/demo`, noRv);
    expect(i.status).toBe(422);
    expect(i.json.message).toBe('SympoziumInstance.sympozium.ai "demo" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    const rep = await emu.kubectl(['replace', '-f', '-'], { input: JSON.stringify(stale) });
    expect(rep.rc).toBe(1);
    expect(rep.stderr).toContain('the object has been modified');
  });

  it('P2.39 a missing namespace is NotFound; a mismatched body namespace is BadRequest', async () => {
    const r = await emu.kubectl(['create', '-n', 'nope', '-f', '-'], { input: JSON.stringify(si('x')) });
    expect(r.rc).toBe(1);
    expect(r.stderr).toContain('namespaces "nope" not found');
    const body = si('y');
    (body.metadata as any).namespace = 'kube-system';
    const m = await api(emu.server, 'POST', SI_PATH, body);
    expect(m.status).toBe(400);
    expect(m.json.message).toBe('the namespace of the provided object does not match the namespace sent on the request');
  });

  it('P2.40 generateName gives a five-character suffix', async () => {
    const r = await emu.kubectl(['create', '-f', '-', '-o', 'jsonpath={.metadata.name}'], {
      input: JSON.stringify({ apiVersion: 'sympozium.ai/v1alpha1', kind: 'AgentRun', metadata: { generateName: 'run-' }, spec: { instanceRef: 'demo' } }),
    });
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toMatch(/^run-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('P2.42 apply --dry-run=server sends dryRun=All and stores nothing', async () => {
    const manifest = JSON.stringify(si('dry'));
    const r = await emu.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: manifest });
    expect(r.rc, r.out).toBe(0);
    expect(r.stdout).toContain('sympoziuminstance.sympozium.ai/dry created (server dry run)');
    expect(emu.server.requestLog.some((e) => e.method === 'POST' && e.query.includes('dryRun=All'))).toBe(true);
    expect((await emu.kubectl(['get', 'si', 'dry'])).rc).toBe(1);
  });

  it('P2.43 Strict validation rejects an unknown field; Warn (no parameter) prunes it with a Warning header', async () => {
    const r = await emu.kubectl(['apply', '-f', '-'], { input: JSON.stringify(si('strict', { model: 'a', bogus: 1 })) });
    expect(r.rc).toBe(1);
    expect(r.stderr).toContain('strict decoding error: unknown field "spec.bogus"');
    const w = await api(emu.server, 'POST', SI_PATH, si('warned', { model: 'a', bogus: 1 }));
    expect(w.status).toBe(201);
    expect(w.json.spec.bogus).toBeUndefined();
    expect(w.headers.get('warning')).toBe('299 - "unknown field \\"spec.bogus\\""');
    const bad = await api(emu.server, 'POST', SI_PATH, si('invalid', { replicas: 'many', provider: 'other' }));
    expect(bad.status).toBe(422);
    expect(bad.json.reason).toBe('Invalid');
    expect(bad.json.details.causes.map((c: any) => c.field).sort()).toEqual(['spec.provider', 'spec.replicas']);
  });

  it('P2.44 built-in list items omit kind/apiVersion, custom resource items carry them, empty items is []', async () => {
    const secrets = await api(emu.server, 'GET', '/api/v1/namespaces/default/secrets');
    expect(secrets.json.kind).toBe('SecretList');
    expect(secrets.json.items[0].kind).toBeUndefined();
    expect(secrets.json.items[0].apiVersion).toBeUndefined();
    const sis = await api(emu.server, 'GET', SI_PATH);
    expect(sis.json.kind).toBe('SympoziumInstanceList');
    expect(sis.json.items[0].kind).toBe('SympoziumInstance');
    const empty = await api(emu.server, 'GET', '/apis/sympozium.ai/v1alpha1/namespaces/kube-system/skillpacks');
    expect(empty.text).toContain('"items":[]');
  });
});
