/**
 * ObjectMeta as kube-apiserver decodes and validates it (apimachinery ValidateObjectMeta), for built-in and custom
 * kinds, and the structural-schema rules custom resources get (list types, date-time, rune lengths, unknown status
 * fields under Strict), over HTTP and through one real kubectl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServer } from '../src/index.js';
import { api, eventually, HAS_KUBECTL, startEmulator } from './helpers.js';

const CM = '/api/v1/namespaces/default/configmaps';
const WIDGETS = '/apis/example.com/v1/namespaces/default/widgets';

const widgetCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { kind: 'Widget', plural: 'widgets', singular: 'widget' },
    versions: [{
      name: 'v1',
      served: true,
      storage: true,
      subresources: { status: {} },
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: {
              type: 'object',
              properties: {
                tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
                ports: {
                  type: 'array',
                  'x-kubernetes-list-type': 'map',
                  'x-kubernetes-list-map-keys': ['name'],
                  items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' } } },
                },
                at: { type: 'string', format: 'date-time' },
                short: { type: 'string', maxLength: 3, minLength: 2 },
              },
            },
            status: { type: 'object', properties: { phase: { type: 'string' } } },
          },
        },
      },
    }],
  },
};

const cm = (metadata: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm', ...metadata } });
const widget = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec, ...extra });

describe('ObjectMeta decoding and validation, and custom-resource schema rules', () => {
  let server: ApiServer;
  const post = (path: string, body: unknown, query = '?dryRun=All') => api(server, 'POST', `${path}${query}`, body);

  beforeAll(async () => {
    server = await startApiServer();
    expect((await api(server, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', widgetCrd)).status).toBe(201);
    await eventually(async () => (await api(server, 'GET', WIDGETS)).status === 200, 5_000, 'the Widget CRD');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses an invalid label value with a 422 worded as kube-apiserver words it', async () => {
    const r = await post(CM, cm({ labels: { tier: 'a b' } }));
    expect(r.status).toBe(422);
    expect(r.json.reason).toBe('Invalid');
    expect(r.json.message).toBe(
      `ConfigMap "m" is invalid: metadata.labels: Invalid value: "a b": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
    );
    expect(r.json.details.causes).toEqual([expect.objectContaining({ reason: 'FieldValueInvalid', field: 'metadata.labels' })]);
  });

  it.each([
    ['label key with a space', { labels: { 'bad key': 'a' } }, 'metadata.labels'],
    ['64-character label value', { labels: { tier: 'a'.repeat(64) } }, 'metadata.labels'],
    ['label key with an empty prefix', { labels: { '/tier': 'a' } }, 'metadata.labels'],
    ['annotation key with a space', { annotations: { 'bad key': 'a' } }, 'metadata.annotations'],
    ['annotations over 256 KiB', { annotations: { note: 'a'.repeat(256 * 1024) } }, 'metadata.annotations'],
    ['finalizer with a space', { finalizers: ['bad finalizer'] }, 'metadata.finalizers'],
    ['bad generateName', { name: undefined, generateName: 'Bad_Prefix-' }, 'metadata.generateName'],
    ['ownerReference without a uid', { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o' }] }, 'metadata.ownerReferences.uid'],
    ['ownerReference without a version', { ownerReferences: [{ apiVersion: 'example.com/', kind: 'ConfigMap', name: 'o', uid: '1' }] }, 'metadata.ownerReferences.apiVersion'],
    ['pair of controller references', { ownerReferences: ['a', 'b'].map((name) => ({ apiVersion: 'v1', kind: 'ConfigMap', name, uid: name, controller: true })) }, 'metadata.ownerReferences'],
    ['finalizer pair orphan and foregroundDeletion', { finalizers: ['orphan', 'foregroundDeletion'] }, 'metadata.finalizers'],
    ['uppercase name', { name: 'Upper' }, 'metadata.name'],
  ])('refuses a %s (built-in and custom kinds alike)', async (_, metadata, field) => {
    for (const [path, body] of [[CM, cm(metadata)], [WIDGETS, { ...widget({}), metadata: { name: 'w', ...metadata } }]] as const) {
      const r = await post(path, body);
      expect(r.status, r.text).toBe(422);
      expect(r.json.details.causes.map((c: { field: string }) => c.field)).toContain(field);
    }
  });

  it('judges names per kind: a subdomain for most, a label for Namespace, a DNS-1035 label for Service', async () => {
    const sub = await post(CM, cm({ name: 'a_b' }));
    expect(sub.json.message).toBe(
      `ConfigMap "a_b" is invalid: metadata.name: Invalid value: "a_b": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    );
    expect((await post(CM, cm({ name: 'a.b' }))).status).toBe(201);
    expect((await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } })).status).toBe(422);
    const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });
    const digit = await post('/api/v1/namespaces/default/services', svc('1abc'));
    expect(digit.status).toBe(422);
    expect(digit.json.message).toContain('a DNS-1035 label must consist of lower case alphanumeric characters');
    expect((await post('/api/v1/namespaces/default/services', svc('abc-1'))).status).toBe(201);
  });

  it('accepts what ValidateObjectMeta allows: prefixed keys, empty label values, a trailing-dash generateName, qualified finalizers', async () => {
    const ok = await post(CM, cm({
      name: undefined,
      generateName: 'good-prefix-',
      labels: { 'example.com/tier': '', app: 'x_y.z' },
      annotations: { 'Example.com/Note': 'any text at all' },
      finalizers: ['example.com/cleanup'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: '1234' }],
    }), '');
    expect(ok.status, ok.text).toBe(201);
    expect(ok.json.metadata.name).toMatch(/^good-prefix-[a-z0-9]{5}$/);
  });

  it('refuses metadata that does not decode into ObjectMeta with a 400 cannot unmarshal', async () => {
    const name = await post(CM, cm({ name: 12 }));
    expect(name.status).toBe(400);
    expect(name.json.reason).toBe('BadRequest');
    expect(name.json.message).toBe('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string');
    const labels = await post(WIDGETS, { ...widget({}), metadata: { name: 'w', labels: ['a'] } });
    expect(labels.status).toBe(400);
    expect(labels.json.message).toBe('Widget in version "v1" cannot be handled as a Widget: json: cannot unmarshal array into Go struct field ObjectMeta.labels of type map[string]string');
    const annotation = await post(CM, cm({ annotations: { note: true } }));
    expect(annotation.status).toBe(400);
    expect(annotation.json.message).toContain('cannot unmarshal bool into Go struct field ObjectMeta.metadata.annotations of type string');
  });

  it('validates metadata on update and merge patch too', async () => {
    expect((await post(CM, cm({ name: 'u' }), '')).status).toBe(201);
    const patched = await api(server, 'PATCH', `${CM}/u`, { metadata: { labels: { tier: 'ab-' } } }, { 'Content-Type': 'application/merge-patch+json' });
    expect(patched.status).toBe(422);
    const current = (await api(server, 'GET', `${CM}/u`)).json;
    const put = await api(server, 'PUT', `${CM}/u`, { ...current, metadata: { ...current.metadata, finalizers: ['no way'] } });
    expect(put.status).toBe(422);
  });

  it('refuses new finalizers on an object being deleted (ValidateNoNewFinalizers), allows removing them', async () => {
    expect((await post(CM, cm({ name: 'fin', finalizers: ['example.com/a'] }), '')).status).toBe(201);
    expect((await api(server, 'DELETE', `${CM}/fin`)).status).toBe(200);
    const merge = { 'Content-Type': 'application/merge-patch+json' };
    const add = await api(server, 'PATCH', `${CM}/fin`, { metadata: { finalizers: ['example.com/a', 'example.com/b'] } }, merge);
    expect(add.status).toBe(422);
    expect(add.json.message).toBe('ConfigMap "fin" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/b"}');
    expect((await api(server, 'PATCH', `${CM}/fin`, { metadata: { finalizers: null } }, merge)).status).toBe(200);
    expect((await api(server, 'GET', `${CM}/fin`)).status).toBe(404);
  });

  it('enforces x-kubernetes-list-type set and map duplicates', async () => {
    const set = await post(WIDGETS, widget({ tags: ['a', 'b', 'a'] }));
    expect(set.status).toBe(422);
    expect(set.json.details.causes).toEqual([{ reason: 'FieldValueDuplicate', field: 'spec.tags[2]', message: 'Duplicate value: "a"' }]);
    const map = await post(WIDGETS, widget({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }] }));
    expect(map.status).toBe(422);
    expect(map.json.details.causes[0]).toMatchObject({ reason: 'FieldValueDuplicate', field: 'spec.ports[1]' });
    expect((await post(WIDGETS, widget({ tags: ['a', 'b'], ports: [{ name: 'http' }, { name: 'https' }] }))).status).toBe(201);
  });

  it('checks format date-time', async () => {
    const bad = await post(WIDGETS, widget({ at: 'yesterday' }));
    expect(bad.status).toBe(422);
    expect(bad.json.message).toContain('spec.at: Invalid value: "yesterday": spec.at in body must be of type date-time: "yesterday"');
    expect((await post(WIDGETS, widget({ at: '2026-03-25T12:00:00Z' }))).status).toBe(201);
    expect((await post(WIDGETS, widget({ at: '2026-02-30T12:00:00Z' }))).status).toBe(422);
  });

  it('counts minLength and maxLength in characters, not UTF-16 units', async () => {
    expect((await post(WIDGETS, widget({ short: '😀😀😀' }))).status).toBe(201);
    expect((await post(WIDGETS, widget({ short: '😀' }))).status).toBe(422);
    expect((await post(WIDGETS, widget({ short: '😀😀😀😀' }))).status).toBe(422);
  });

  it('reports unknown fields under status on create (Strict refuses, Warn warns) although status is then dropped', async () => {
    const strict = await post(WIDGETS, widget({}, { status: { phase: 'x', bogus: 1 } }), '?dryRun=All&fieldValidation=Strict');
    expect(strict.status).toBe(400);
    expect(strict.json.message).toBe('strict decoding error: unknown field "status.bogus"');
    const warn = await post(WIDGETS, widget({}, { status: { bogus: 1 } }), '?dryRun=All&fieldValidation=Warn');
    expect(warn.status).toBe(201);
    expect(warn.headers.get('warning')).toContain('unknown field \\"status.bogus\\"');
    expect(warn.json.status).toBeUndefined();
  });
});

describe.skipIf(!HAS_KUBECTL)('kubectl apply of invalid metadata', () => {
  it('is refused with kube-apiserver\'s message', async () => {
    const emu = await startEmulator();
    try {
      const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  labels:\n    tier: "a b"\n';
      const r = await emu.kubectl(['apply', '-f', '-'], { input: manifest });
      expect(r.rc).toBe(1);
      expect(r.stderr).toContain('The ConfigMap "bad" is invalid: metadata.labels: Invalid value: "a b": a valid label must be an empty string');
      expect((await emu.kubectl(['get', 'configmap', 'bad'])).rc).toBe(1);
    } finally {
      await emu.close();
    }
  });
});
