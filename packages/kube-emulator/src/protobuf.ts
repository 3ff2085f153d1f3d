/**
 * Decoding of the Kubernetes protobuf envelope that kubectl's typed generators (`kubectl create secret|configmap|
 * namespace|service|deployment|serviceaccount`) send. No flag switches them to JSON, so the emulator turns the body
 * into the JSON object a JSON client would have sent and handles it from there.
 *
 * Wire layout: the magic "k8s\0", then a runtime.Unknown message {1: typeMeta {1: apiVersion, 2: kind}, 2: raw,
 * 3: contentEncoding, 4: contentType}; `raw` is the object message. Go's generated marshallers write every
 * non-pointer field even when it is empty, so an empty string, a zero or false means "unset" unless the Go field is
 * a pointer (marked `?` below), where presence itself is the value.
 */

type Scalar = 'string' | 'int' | 'bool' | 'bytes' | 'time' | 'intOrString' | 'quantity';
type FieldType =
  | Scalar
  | `${Scalar}?`
  | `${Scalar}[]`
  | MessageSchema
  | { list: MessageSchema }
  | { map: 'string' | 'bytes' | 'quantity' };
/** Field number -> [JSON name, type]. */
type MessageSchema = { readonly [field: number]: readonly [string, FieldType] };

const MAGIC = Buffer.from('k8s\0', 'latin1');

const objectMeta: MessageSchema = {
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  4: ['selfLink', 'string'],
  5: ['uid', 'string'],
  6: ['resourceVersion', 'string'],
  7: ['generation', 'int'],
  8: ['creationTimestamp', 'time'],
  9: ['deletionTimestamp', 'time'],
  10: ['deletionGracePeriodSeconds', 'int?'],
  11: ['labels', { map: 'string' }],
  12: ['annotations', { map: 'string' }],
  14: ['finalizers', 'string[]'],
};

const labelSelector: MessageSchema = {
  1: ['matchLabels', { map: 'string' }],
  2: ['matchExpressions', { list: { 1: ['key', 'string'], 2: ['operator', 'string'], 3: ['values', 'string[]'] } }],
};

const condition: MessageSchema = {
  1: ['type', 'string'],
  2: ['status', 'string'],
  3: ['lastTransitionTime', 'time'],
  4: ['reason', 'string'],
  5: ['message', 'string'],
};

const container: MessageSchema = {
  1: ['name', 'string'],
  2: ['image', 'string'],
  3: ['command', 'string[]'],
  4: ['args', 'string[]'],
  5: ['workingDir', 'string'],
  6: [
    'ports',
    {
      list: {
        1: ['name', 'string'],
        2: ['hostPort', 'int'],
        3: ['containerPort', 'int'],
        4: ['protocol', 'string'],
        5: ['hostIP', 'string'],
      },
    },
  ],
  7: ['env', { list: { 1: ['name', 'string'], 2: ['value', 'string'] } }],
  8: ['resources', { 1: ['limits', { map: 'quantity' }], 2: ['requests', { map: 'quantity' }] }],
  13: ['terminationMessagePath', 'string'],
  14: ['imagePullPolicy', 'string'],
  16: ['stdin', 'bool'],
  17: ['stdinOnce', 'bool'],
  18: ['tty', 'bool'],
  20: ['terminationMessagePolicy', 'string'],
};

const podSpec: MessageSchema = {
  2: ['containers', { list: container }],
  3: ['restartPolicy', 'string'],
  4: ['terminationGracePeriodSeconds', 'int?'],
  5: ['activeDeadlineSeconds', 'int?'],
  6: ['dnsPolicy', 'string'],
  7: ['nodeSelector', { map: 'string' }],
  8: ['serviceAccountName', 'string'],
  9: ['serviceAccount', 'string'],
  10: ['nodeName', 'string'],
  11: ['hostNetwork', 'bool'],
  12: ['hostPID', 'bool'],
  13: ['hostIPC', 'bool'],
  15: ['imagePullSecrets', { list: { 1: ['name', 'string'] } }],
  16: ['hostname', 'string'],
  17: ['subdomain', 'string'],
  19: ['schedulerName', 'string'],
  20: ['initContainers', { list: container }],
  21: ['automountServiceAccountToken', 'bool?'],
  24: ['priorityClassName', 'string'],
  30: ['enableServiceLinks', 'bool?'],
};

const kinds: Record<string, MessageSchema> = {
  'v1/Secret': {
    1: ['metadata', objectMeta],
    2: ['data', { map: 'bytes' }],
    3: ['type', 'string'],
    4: ['stringData', { map: 'string' }],
    5: ['immutable', 'bool?'],
  },
  'v1/ConfigMap': {
    1: ['metadata', objectMeta],
    2: ['data', { map: 'string' }],
    3: ['binaryData', { map: 'bytes' }],
    4: ['immutable', 'bool?'],
  },
  'v1/Namespace': {
    1: ['metadata', objectMeta],
    2: ['spec', { 1: ['finalizers', 'string[]'] }],
    3: ['status', { 1: ['phase', 'string'], 2: ['conditions', { list: condition }] }],
  },
  'v1/ServiceAccount': {
    1: ['metadata', objectMeta],
    3: ['imagePullSecrets', { list: { 1: ['name', 'string'] } }],
    4: ['automountServiceAccountToken', 'bool?'],
  },
  'v1/Service': {
    1: ['metadata', objectMeta],
    2: [
      'spec',
      {
        1: [
          'ports',
          {
            list: {
              1: ['name', 'string'],
              2: ['protocol', 'string'],
              3: ['port', 'int'],
              4: ['targetPort', 'intOrString'],
              5: ['nodePort', 'int'],
              6: ['appProtocol', 'string?'],
            },
          },
        ],
        2: ['selector', { map: 'string' }],
        3: ['clusterIP', 'string'],
        4: ['type', 'string'],
        5: ['externalIPs', 'string[]'],
        7: ['sessionAffinity', 'string'],
        8: ['loadBalancerIP', 'string'],
        9: ['loadBalancerSourceRanges', 'string[]'],
        10: ['externalName', 'string'],
        11: ['externalTrafficPolicy', 'string'],
        12: ['healthCheckNodePort', 'int'],
        13: ['publishNotReadyAddresses', 'bool'],
        17: ['ipFamilyPolicy', 'string?'],
        18: ['clusterIPs', 'string[]'],
        19: ['ipFamilies', 'string[]'],
        20: ['allocateLoadBalancerNodePorts', 'bool?'],
        21: ['loadBalancerClass', 'string?'],
        22: ['internalTrafficPolicy', 'string?'],
      },
    ],
    3: ['status', { 1: ['loadBalancer', {}], 2: ['conditions', { list: condition }] }],
  },
  'apps/v1/Deployment': {
    1: ['metadata', objectMeta],
    2: [
      'spec',
      {
        1: ['replicas', 'int?'],
        2: ['selector', labelSelector],
        3: ['template', { 1: ['metadata', objectMeta], 2: ['spec', podSpec] }],
        4: [
          'strategy',
          {
            1: ['type', 'string'],
            2: ['rollingUpdate', { 1: ['maxUnavailable', 'intOrString'], 2: ['maxSurge', 'intOrString'] }],
          },
        ],
        5: ['minReadySeconds', 'int'],
        6: ['revisionHistoryLimit', 'int?'],
        7: ['paused', 'bool'],
        9: ['progressDeadlineSeconds', 'int?'],
      },
    ],
    3: [
      'status',
      {
        1: ['observedGeneration', 'int'],
        2: ['replicas', 'int'],
        3: ['updatedReplicas', 'int'],
        4: ['availableReplicas', 'int'],
        5: ['unavailableReplicas', 'int'],
        6: ['conditions', { list: condition }],
        7: ['readyReplicas', 'int'],
        8: ['collisionCount', 'int?'],
      },
    ],
  },
};

/** The kinds decodeKubernetesProtobuf understands, as "apiVersion/Kind". */
const protobufKinds: readonly string[] = Object.keys(kinds);

/**
 * Decodes kubectl's typed-create protobuf envelope ("k8s\0" + runtime.Unknown) into the JSON object a JSON client
 * would have sent (Secret and ConfigMap bytes become base64). Throws an Error naming the kind for anything it
 * cannot decode faithfully, rather than silently dropping a field.
 */
export function decodeKubernetesProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < MAGIC.length || !body.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('the request body is not a Kubernetes protobuf message (missing the "k8s\\0" prefix)');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  let encoding = '';
  for (const value of readFields(body.subarray(MAGIC.length))) {
    if (value.field === 1) {
      const typeMeta = decodeMessage(expectBytes(value, 'typeMeta'), { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] }, 'typeMeta');
      apiVersion = (typeMeta.apiVersion as string | undefined) ?? '';
      kind = (typeMeta.kind as string | undefined) ?? '';
    } else if (value.field === 2) {
      raw = expectBytes(value, 'raw');
    } else if (value.field === 3 || value.field === 4) {
      const text = expectBytes(value, 'contentEncoding').toString('utf8');
      if (text && !(value.field === 4 && text === 'application/vnd.kubernetes.protobuf')) encoding = text;
    }
  }
  const gvk = `${apiVersion || '<none>'}, Kind=${kind || '<none>'}`;
  if (encoding) throw new Error(`cannot decode protobuf for ${gvk}: unsupported content encoding or type "${encoding}"`);
  const schema = kinds[`${apiVersion}/${kind}`];
  if (!schema) {
    throw new Error(
      `protobuf request bodies for ${gvk} are not supported by this server; send JSON instead (supported: ${protobufKinds.join(', ')})`,
    );
  }
  try {
    return { apiVersion, kind, ...decodeMessage(raw, schema, kind) };
  } catch (error) {
    throw new Error(`cannot decode protobuf for ${gvk}: ${(error as Error).message}`);
  }
}

type WireValue = { field: number; wire: number; varint?: bigint; bytes?: Buffer };

function* readFields(buf: Buffer): Generator<WireValue> {
  let offset = 0;
  const readVarint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (offset >= buf.length || shift > 63n) throw new Error('truncated or malformed varint');
      const byte = buf[offset++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
    }
  };
  while (offset < buf.length) {
    const key = readVarint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      yield { field, wire, varint: readVarint() };
    } else if (wire === 2) {
      const length = Number(readVarint());
      if (offset + length > buf.length) throw new Error('truncated length-delimited field');
      yield { field, wire, bytes: buf.subarray(offset, offset + length) };
      offset += length;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      if (offset + size > buf.length) throw new Error('truncated fixed-size field');
      yield { field, wire, bytes: buf.subarray(offset, offset + size) };
      offset += size;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

function isEmpty(value: WireValue): boolean {
  return value.wire === 0 ? value.varint === 0n : value.wire === 2 && value.bytes!.length === 0;
}

function decodeMessage(buf: Buffer, schema: MessageSchema, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const value of readFields(buf)) {
    const definition = schema[value.field];
    if (!definition) {
      // Go writes unset non-pointer fields as empty values; only a field that carries data is worth refusing.
      if (isEmpty(value)) continue;
      throw new Error(`unsupported field ${value.field} in ${path}`);
    }
    const [name, type] = definition;
    const where = `${path}.${name}`;
    if (typeof type === 'string') {
      const optional = type.endsWith('?');
      const repeated = type.endsWith('[]');
      const scalar = type.replace(/\?|\[\]$/, '') as Scalar;
      const decoded = decodeScalar(value, scalar, where);
      if (repeated) {
        ((out[name] ??= []) as unknown[]).push(decoded);
      } else if (optional || !isZero(decoded)) {
        out[name] = decoded;
      }
    } else if ('list' in type) {
      ((out[name] ??= []) as unknown[]).push(decodeMessage(expectBytes(value, where), type.list as MessageSchema, where));
    } else if ('map' in type) {
      const entry = decodeMessage(
        expectBytes(value, where),
        { 1: ['key', 'string'], 2: ['value', type.map === 'string' ? 'string?' : (`${type.map}?` as const)] },
        where,
      );
      const map = (out[name] ??= {}) as Record<string, unknown>;
      map[String(entry.key ?? '')] = entry.value ?? '';
    } else {
      out[name] = decodeMessage(expectBytes(value, where), type as MessageSchema, where);
    }
  }
  return out;
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false || value === undefined;
}

function expectBytes(value: WireValue, where: string): Buffer {
  if (value.wire !== 2) throw new Error(`${where}: expected a length-delimited field, got wire type ${value.wire}`);
  return value.bytes!;
}

function expectVarint(value: WireValue, where: string): bigint {
  if (value.wire !== 0) throw new Error(`${where}: expected a varint, got wire type ${value.wire}`);
  return value.varint!;
}

function decodeScalar(value: WireValue, scalar: Scalar, where: string): unknown {
  switch (scalar) {
    case 'string':
      return expectBytes(value, where).toString('utf8');
    case 'bytes':
      return expectBytes(value, where).toString('base64');
    case 'int':
      // int32/int64 fields are plain varints; negative numbers arrive as 64-bit two's complement.
      return Number(BigInt.asIntN(64, expectVarint(value, where)));
    case 'bool':
      return expectVarint(value, where) !== 0n;
    case 'time': {
      const time = decodeMessage(expectBytes(value, where), { 1: ['seconds', 'int'], 2: ['nanos', 'int'] }, where);
      const seconds = (time.seconds as number | undefined) ?? 0;
      // The zero time is how Go marshals an unset metav1.Time; JSON clients send null, so leave it out.
      if (seconds === 0 && !time.nanos) return undefined;
      return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'intOrString': {
      const parsed = decodeMessage(
        expectBytes(value, where),
        { 1: ['type', 'int'], 2: ['intVal', 'int'], 3: ['strVal', 'string'] },
        where,
      );
      return parsed.type === 1 ? ((parsed.strVal as string | undefined) ?? '') : ((parsed.intVal as number | undefined) ?? 0);
    }
    case 'quantity': {
      const parsed = decodeMessage(expectBytes(value, where), { 1: ['string', 'string'] }, where);
      return (parsed.string as string | undefined) ?? '';
    }
  }
  throw new Error(`${where}: unknown scalar ${String(scalar)}`);
}
