import { mkdirSync, mkdtempSync, openSync, closeSync, ftruncateSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseManifests, readManifests, type Problem } from '../../src/sympozium/manifests.js';
import { formatProblem, sortProblems, validateDocuments } from '../../src/sympozium/validate.js';

/** Parses and validates text as `sympozium validate` does, and returns the problems as printed lines. */
function check(text: string, options: Parameters<typeof validateDocuments>[1] = {}): string[] {
  const parsed = parseManifests(text, 'demo.yaml');
  return sortProblems([...parsed.problems, ...validateDocuments(parsed.documents, options)]).map(formatProblem);
}

const validInstance = `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: demo
spec:
  agents:
    default:
      model: gpt-4.1
      thinking: "off"
  authRefs:
    - provider: openai
      secret: demo-openai-key
  skills:
    - skillPackRef: web-endpoint
      params:
        rate_limit_rpm: "60"
`;

describe('validate: good manifests', () => {
  it('passes a valid instance with no problems at all', () => {
    expect(check(validInstance)).toEqual([]);
  });

  it('passes JSON documents, and multi-document files with empty documents between', () => {
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { a: 'b' } });
    expect(check(json)).toEqual([]);
    expect(check(`---\n---\n${validInstance}---\n`)).toEqual([]);
  });

  it('understands << merge keys, as kubectl (YAML 1.1) does', () => {
    const text = `apiVersion: v1
kind: ConfigMap
metadata:
  name: merged
  labels: &labels {team: a}
  annotations:
    <<: *labels
    extra: b
`;
    expect(check(text)).toEqual([]);
    expect(parseManifests(text, 'x').documents[0]!.object.metadata).toEqual({ name: 'merged', labels: { team: 'a' }, annotations: { team: 'a', extra: 'b' } });
  });

  it('passes documents of unknown kinds with a note instead of rejecting them', () => {
    expect(check('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {anything: goes}\n')).toEqual([
      'demo.yaml:1:1  note: no bundled schema for apps/v1 Deployment; only apiVersion, kind and metadata were checked',
    ]);
  });
});

describe('validate: every problem with its exact position and path', () => {
  it('reports upstream example mistakes with a "did you mean" pointing across the subtree', () => {
    const text = `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata:
  name: demo
spec:
  channels:
    - type: telegram
      secretRef: telegram-creds
  agents:
    sandbox:
      enabled: true
    default:
      model: gpt-4.1
      image: ghcr.io/x/agent:1
  skills:
    - name: k8s-ops
  authRefs:
    - provider: openai
      secretName: openai-key
`;
    expect(check(text)).toEqual([
      'demo.yaml:8:7  spec.channels[0].secretRef: unknown field "secretRef" (did you mean configRef.secret?)',
      'demo.yaml:10:5  spec.agents.sandbox: unknown field "sandbox" (did you mean default.sandbox?)',
      'demo.yaml:14:7  spec.agents.default.image: unknown field "image" (did you mean sandbox.image?)',
      'demo.yaml:16:7  spec.skills[0].name: unknown field "name" (did you mean skillPackRef?)',
      'demo.yaml:18:7  spec.authRefs[0].secret: required',
      'demo.yaml:19:7  spec.authRefs[0].secretName: unknown field "secretName" (did you mean secret?)',
    ]);
  });

  it('says where a field written at the wrong level belongs', () => {
    const text = `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata: {name: x}
spec:
  agents:
    default: {model: m, policyRef: restrictive}
  baseURL: http://ollama:11434/v1
  memory: {enabled: true, systemprompt: hi}
  webEndpoint: {enabled: true, rpm: 3}
`;
    expect(check(text)).toEqual([
      'demo.yaml:6:25  spec.agents.default.policyRef: unknown field "policyRef" (it belongs at spec.policyRef)',
      'demo.yaml:7:3  spec.baseURL: unknown field "baseURL" (did you mean agents.default.baseURL?)',
      'demo.yaml:8:27  spec.memory.systemprompt: unknown field "systemprompt" (did you mean systemPrompt?)',
      'demo.yaml:9:32  spec.webEndpoint.rpm: unknown field "rpm" (did you mean rateLimit.requestsPerMinute?)',
    ]);
  });

  it('reports wrong types, bad enum values and out-of-range numbers at the value', () => {
    const text = `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumInstance
metadata: {name: demo}
spec:
  agents:
    default:
      model: 42
      thinking: extreme
  memory: {enabled: "true", maxSizeKB: 0}
  channels:
    - type: Slack
      configRef: {secret: s}
  policyRef: My_Policy
`;
    expect(check(text)).toEqual([
      'demo.yaml:7:14  spec.agents.default.model: must be a string, not a number (42); quote it: "42"',
      'demo.yaml:9:21  spec.memory.enabled: must be true or false, not a string ("true")',
    ]);
  });

  it('catches unquoted yes/no/on/off, which kubectl (YAML 1.1) reads as booleans', () => {
    const text = validInstance.replace('thinking: "off"', 'thinking: off');
    expect(check(text)).toEqual([
      'demo.yaml:9:17  spec.agents.default.thinking: quote "off": kubectl reads an unquoted off as a boolean (YAML 1.1), and this field is a string',
    ]);
  });

  it('requires apiVersion, kind and metadata.name', () => {
    expect(check('metadata:\n  labels: {a: b}\nspec: {}\n')).toEqual([
      'demo.yaml:1:1  apiVersion: required',
      'demo.yaml:1:1  kind: required',
      'demo.yaml:2:3  metadata.name: required',
    ]);
    expect(check('apiVersion: v1\nkind: ConfigMap\n')).toEqual(['demo.yaml:1:1  metadata.name: required']);
    expect(check('apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}\n')).toEqual([
      'demo.yaml:3:11  metadata.name: required (apply needs a fixed name; generateName works only with create)',
    ]);
  });

  it('suggests the right apiVersion or kind for near misses', () => {
    expect(check('apiVersion: sympozium.ai/v1beta1\nkind: AgentRun\nmetadata: {name: r}\n')).toEqual([
      'demo.yaml:1:13  apiVersion: AgentRun is served as sympozium.ai/v1alpha1, not sympozium.ai/v1beta1',
    ]);
    expect(check('apiVersion: sympozium.ai/v1alpha1\nkind: SympoziumInstace\nmetadata: {name: r}\n')).toEqual([
      'demo.yaml:2:7  kind: unknown kind SympoziumInstace in sympozium.ai (did you mean SympoziumInstance?)',
    ]);
  });

  it('checks the Secrets init writes: base64 data, and placeholders are pointed out', () => {
    expect(check('apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  KEY: not base64!\n')).toEqual([
      'demo.yaml:5:8  data.KEY: must be base64-encoded (put plain text under stringData instead of data)',
    ]);
    const placeholder = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations: {sympozium.ai/placeholder: "true"}\nstringData: {K: REPLACE}\n';
    expect(check(placeholder)).toEqual([
      'demo.yaml:1:1  note: this Secret holds a placeholder, not a key: replace the value, or delete this document and create the Secret with kubectl',
    ]);
  });

  it('reports YAML syntax errors with their position and still checks the other documents', () => {
    const lines = check(`a: [1, 2\nb: 3\n---\n${validInstance.replace('model: gpt-4.1', 'model: [gpt')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\nbogus: 1\n`);
    expect(lines[0]).toMatch(/^demo\.yaml:\d+:\d+  YAML: /);
    expect(lines.every((line) => line.startsWith('demo.yaml:'))).toBe(true);
    expect(lines.at(-1)).toBe('demo.yaml:24:1  bogus: unknown field "bogus"');
  });

  it('rejects duplicate keys, as kubectl does, in linear time even for huge maps', () => {
    expect(check('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: "1"\n  b: "2"\n  a: "3"\nmetadata: {name: y}\n')).toEqual([
      'demo.yaml:7:3  YAML: duplicate key "a" (kubectl rejects it; keep one)',
      'demo.yaml:8:1  YAML: duplicate key "metadata" (kubectl rejects it; keep one)',
    ]);
    const keys = Array.from({ length: 50_000 }, (_, index) => `  k${index}: v`).join('\n');
    expect(check(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: wide}\ndata:\n${keys}\n  k7: again\n`)).toEqual([
      'demo.yaml:50005:3  YAML: duplicate key "k7" (kubectl rejects it; keep one)',
    ]);
  });

  it('reports documents that are not objects', () => {
    expect(check('- a\n- b\n')).toEqual([
      'demo.yaml:1:1  expected a Kubernetes object (a mapping with apiVersion, kind and metadata), found a list',
    ]);
  });

  it('also checks against cluster schemas when given, without repeating the same problem', () => {
    const cluster = new Map<string, unknown>([
      [
        'sympozium.ai/v1alpha1/SympoziumInstance',
        { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec: { type: 'object', required: ['owner'], properties: { agents: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, owner: { type: 'string' }, authRefs: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }, skills: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } } } },
      ],
    ]);
    expect(check(validInstance, { extraSchemas: cluster })).toEqual(['demo.yaml:6:3  spec.owner: required']);
  });
});

describe('validate: bad input ends in a clean problem', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sympozium-validate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const stdin = (text: string) => Readable.from([Buffer.from(text)]);
  const read = (paths: string[], input = '') => readManifests(paths, { cwd: dir, stdin: stdin(input) });
  const messages = (problems: Problem[]) => problems.map(formatProblem);

  it('empty files and comment-only files', () => {
    expect(check('')).toEqual(['demo.yaml:1:1  no documents: the file is empty']);
    expect(check('# only a comment\n')).toEqual(['demo.yaml:1:1  no documents: the file is empty']);
    expect(check('---\n---\n')).toEqual(['demo.yaml:1:1  no documents: every document in the file is empty']);
  });

  it('binary junk and other encodings', () => {
    expect(messages(parseManifests(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), 'a.out').problems)).toEqual([
      'a.out  binary data, not a YAML or JSON manifest (or UTF-16 text: save it as UTF-8)',
    ]);
    expect(messages(parseManifests(Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a]), 'latin1.yaml').problems)).toEqual([
      'latin1.yaml  not UTF-8 text: a manifest must be UTF-8 encoded YAML or JSON',
    ]);
  });

  it('a 50 MB file is refused by its size, without reading it', async () => {
    const file = path.join(dir, 'huge.yaml');
    const handle = openSync(file, 'w');
    ftruncateSync(handle, 50 * 1024 * 1024);
    closeSync(handle);
    const result = await read(['huge.yaml']);
    expect(messages(result.problems)).toEqual([
      'huge.yaml  too large to be a manifest (50.0 MiB; the limit is 4 MiB, the API server accepts at most 3 MiB)',
    ]);
  });

  it('a huge stdin is cut off as soon as it passes the limit', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    let sent = 0;
    const endless = new Readable({
      read() {
        sent++;
        this.push(sent > 64 ? null : chunk);
      },
    });
    const result = await readManifests(['-'], { cwd: dir, stdin: endless });
    expect(result.problems[0]!.message).toMatch(/^too large to be a manifest \(more than 4 MiB;/);
    expect(sent).toBeLessThan(10);
  });

  it('an endless device is read only up to the limit', async () => {
    const result = await read(['/dev/zero']);
    expect(messages(result.problems)).toEqual(['/dev/zero  too large to be a manifest (more than 4 MiB; the limit is 4 MiB, the API server accepts at most 3 MiB)']);
  });

  it('deeply nested YAML, flow and block', () => {
    const flow = `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    expect(check(flow)).toEqual([`demo.yaml:1:104  nested more than 100 levels deep; manifests are never this deep`]);
    const block = Array.from({ length: 300 }, (_, depth) => `${'  '.repeat(depth)}k${depth}:`).join('\n');
    expect(check(block)[0]).toMatch(/^demo\.yaml:102:\d+  nested more than 100 levels deep/);
    const dashes = `${'- '.repeat(5000)}x\n`;
    expect(check(dashes)[0]).toMatch(/nested more than 100 levels deep/);
  });

  it('an alias bomb (billion laughs) is refused', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let level = 1; level < 9; level++) {
      const previous = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    expect(check(`${levels.join('\n')}\n`)).toEqual([
      'demo.yaml:1:1  too many aliases (more than 100 expansions): refusing what looks like a YAML alias bomb',
    ]);
  });

  it('directories recurse over .yaml, .yml and .json, in order, skipping hidden ones and other files', async () => {
    mkdirSync(path.join(dir, 'tree/sub'), { recursive: true });
    mkdirSync(path.join(dir, 'tree/.git'), { recursive: true });
    writeFileSync(path.join(dir, 'tree/b.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n');
    writeFileSync(path.join(dir, 'tree/a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n');
    writeFileSync(path.join(dir, 'tree/sub/c.json'), '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}');
    writeFileSync(path.join(dir, 'tree/.git/d.yaml'), 'not: checked\n');
    writeFileSync(path.join(dir, 'tree/README.md'), '# not a manifest\n');
    const result = await read(['tree', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stdin}\n');
    expect(result.problems).toEqual([]);
    expect(result.documents.map((document) => `${document.source}#${(document.object.metadata as { name: string }).name}`)).toEqual([
      'tree/a.yaml#a',
      'tree/b.yml#b',
      path.join('tree', 'sub', 'c.json') + '#c',
      '<stdin>#stdin',
    ]);
  });

  it('missing paths and empty directories are problems, not crashes', async () => {
    mkdirSync(path.join(dir, 'empty'), { recursive: true });
    const result = await read(['nope.yaml', 'empty']);
    expect(messages(result.problems)).toEqual(['nope.yaml  no such file or directory', 'empty  no .yaml, .yml or .json files in this directory']);
  });
});
