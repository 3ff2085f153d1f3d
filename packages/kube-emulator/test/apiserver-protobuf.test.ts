import { describe, expect, it } from 'vitest';
import { decodeKubernetesProtobuf } from '../src/protobuf.js';

// A tiny protobuf writer, enough to build the envelopes kubectl sends. Go's marshaller writes empty non-pointer
// fields too, so the builders below include them the way kubectl does, to prove they are read as "unset".
function varint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    bytes.push(byte);
  } while (v);
  return Buffer.from(bytes);
}
const bytes = (field: number, payload: Buffer | string): Buffer => {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([varint((field << 3) | 2), varint(data.length), data]);
};
const int = (field: number, value: number | bigint): Buffer => Buffer.concat([varint(field << 3), varint(value)]);
const msg = (field: number, ...parts: Buffer[]): Buffer => bytes(field, Buffer.concat(parts));
const entry = (field: number, key: string, value: Buffer | string): Buffer => msg(field, bytes(1, key), bytes(2, value));

function objectMeta(name: string, ...extra: Buffer[]): Buffer {
  return msg(
    1,
    bytes(1, name),
    bytes(2, ''),
    bytes(3, ''),
    bytes(4, ''),
    bytes(5, ''),
    bytes(6, ''),
    int(7, 0),
    msg(8),
    ...extra,
  );
}

function envelope(apiVersion: string, kind: string, ...object: Buffer[]): Buffer {
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    msg(1, bytes(1, apiVersion), bytes(2, kind)),
    msg(2, ...object),
    bytes(3, ''),
    bytes(4, ''),
  ]);
}

describe('decodeKubernetesProtobuf', () => {
  it('turns a Secret into JSON with base64 data, keeping binary bytes and empty values intact', () => {
    const binary = Buffer.from([0x00, 0xff, 0x10, 0x80]);
    const body = envelope(
      'v1',
      'Secret',
      objectMeta('s1', entry(11, 'app', 'demo')),
      entry(2, 'apiKey', 'sk-123'),
      entry(2, 'blob', binary),
      entry(2, 'empty', ''),
      bytes(3, ''),
    );
    expect(decodeKubernetesProtobuf(body)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's1', labels: { app: 'demo' } },
      data: { apiKey: 'c2stMTIz', blob: binary.toString('base64'), empty: '' },
    });
  });

  it('keeps a Secret type, stringData and an explicit immutable: false', () => {
    const body = envelope(
      'v1',
      'Secret',
      objectMeta('tls', entry(12, 'note', 'x')),
      bytes(3, 'kubernetes.io/tls'),
      entry(4, 'plain', 'text'),
      int(5, 0),
    );
    expect(decodeKubernetesProtobuf(body)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls', annotations: { note: 'x' } },
      type: 'kubernetes.io/tls',
      stringData: { plain: 'text' },
      immutable: false,
    });
  });

  it('decodes ConfigMap data and binaryData, and a namespaced generateName', () => {
    const meta = msg(1, bytes(1, ''), bytes(2, 'cfg-'), bytes(3, 'team'), int(7, 0), msg(8));
    const body = envelope('v1', 'ConfigMap', meta, entry(2, 'k', 'v'), entry(3, 'bin', Buffer.from([1, 2, 3])));
    expect(decodeKubernetesProtobuf(body)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { generateName: 'cfg-', namespace: 'team' },
      data: { k: 'v' },
      binaryData: { bin: 'AQID' },
    });
  });

  it('decodes a Namespace with empty spec and status as kubectl sends them', () => {
    const body = envelope('v1', 'Namespace', objectMeta('n1'), msg(2), msg(3, bytes(1, '')));
    expect(decodeKubernetesProtobuf(body)).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'n1' },
      spec: {},
      status: {},
    });
  });

  it('decodes a Service with numeric and named target ports', () => {
    const port = (name: string, number: number, target: Buffer): Buffer =>
      msg(1, bytes(1, name), bytes(2, 'TCP'), int(3, number), target, int(5, 0));
    const body = envelope(
      'v1',
      'Service',
      objectMeta('web'),
      msg(
        2,
        port('a', 80, msg(4, int(1, 0), int(2, 8080), bytes(3, ''))),
        port('b', 81, msg(4, int(1, 1), int(2, 0), bytes(3, 'http'))),
        entry(2, 'app', 'web'),
        bytes(3, ''),
        bytes(4, 'ClusterIP'),
        int(12, 0),
        int(13, 0),
      ),
      msg(3, msg(1)),
    );
    expect(decodeKubernetesProtobuf(body)).toMatchObject({
      kind: 'Service',
      spec: {
        ports: [
          { name: 'a', protocol: 'TCP', port: 80, targetPort: 8080 },
          { name: 'b', protocol: 'TCP', port: 81, targetPort: 'http' },
        ],
        selector: { app: 'web' },
        type: 'ClusterIP',
      },
    });
  });

  it('decodes a Deployment, keeping replicas: 0 because the Go field is a pointer', () => {
    const container = msg(
      2,
      bytes(1, 'app'),
      bytes(2, 'busybox'),
      bytes(3, 'sleep'),
      bytes(3, '100'),
      msg(6, bytes(1, ''), int(2, 0), int(3, 80), bytes(4, '')),
      msg(8),
      int(16, 0),
    );
    const body = envelope(
      'apps/v1',
      'Deployment',
      objectMeta('web'),
      msg(
        2,
        int(1, 0),
        msg(2, entry(1, 'app', 'web')),
        msg(3, objectMeta('', entry(11, 'app', 'web')), msg(2, container, bytes(3, ''))),
        msg(4, bytes(1, '')),
        int(5, 0),
      ),
      msg(3, int(1, 0), int(2, 0)),
    );
    expect(decodeKubernetesProtobuf(body)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'app', image: 'busybox', command: ['sleep', '100'], ports: [{ containerPort: 80 }], resources: {} },
            ],
          },
        },
        strategy: {},
      },
      status: {},
    });
  });

  it('reads negative integers and timestamps', () => {
    const meta = msg(1, bytes(1, 'x'), msg(9, int(1, 1_700_000_000)), int(10, -1));
    const body = envelope('v1', 'ConfigMap', meta);
    expect(decodeKubernetesProtobuf(body).metadata).toEqual({
      name: 'x',
      deletionTimestamp: '2023-11-14T22:13:20Z',
      deletionGracePeriodSeconds: -1,
    });
  });

  it('refuses kinds it cannot decode, naming the kind', () => {
    const body = envelope('batch/v1', 'Job', objectMeta('j'));
    expect(() => decodeKubernetesProtobuf(body)).toThrow(/batch\/v1, Kind=Job/);
  });

  it('refuses a field that carries data it does not understand instead of dropping it', () => {
    const ownerReference = msg(13, bytes(1, 'Deployment'), bytes(3, 'web'));
    const body = envelope('v1', 'Secret', objectMeta('s', ownerReference));
    expect(() => decodeKubernetesProtobuf(body)).toThrow(/v1, Kind=Secret.*unsupported field 13/);
  });

  it('refuses bodies that are not a Kubernetes protobuf envelope, or are truncated', () => {
    expect(() => decodeKubernetesProtobuf(Buffer.from('{"kind":"Secret"}'))).toThrow(/not a Kubernetes protobuf/);
    const whole = envelope('v1', 'Secret', objectMeta('s'));
    expect(() => decodeKubernetesProtobuf(whole.subarray(0, whole.length - 3))).toThrow(/truncated/);
  });
});
