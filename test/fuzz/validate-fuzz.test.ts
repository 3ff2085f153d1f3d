import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifests, type Problem } from '../../src/sympozium/manifests.js';
import { scaffold } from '../../src/sympozium/scaffold.js';
import { formatProblem, validateDocuments } from '../../src/sympozium/validate.js';
import { buildPrivateCopy, runPrivateBin, type PrivateBuild } from '../support/private-build.js';

/**
 * Random and mutated manifests through the validator: whatever the input, it must end in a list of problems
 * (or none), never an exception. Most of the volume runs in-process; a handful go through the built bin, which
 * must exit 0 or 2 and never report an unexpected failure. Seeded, so a failure can be replayed: the seed is
 * in the test name, and FUZZ_SEED=<n> reruns it.
 */

const seed = Number(process.env.FUZZ_SEED ?? 20260325);
const iterations = Number(process.env.FUZZ_ITERATIONS ?? 1000);

function random(seedValue: number) {
  let state = seedValue >>> 0;
  const next = () => {
    // mulberry32: small, fast and good enough to spread mutations around.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

const generated = scaffold({
  name: 'fuzz',
  provider: 'openai',
  model: 'gpt-4.1',
  thinking: 'medium',
  skills: [{ ref: 'k8s-ops', params: { CLUSTER: 'prod' } }],
  policy: 'default',
  channels: [{ type: 'telegram', secret: 'tg' }],
  allowedSenders: ['123'],
  memory: true,
  systemPrompt: 'Be brief.',
  observability: 'otel:4317',
  webEndpoint: { rpm: 60, burst: 10, hostname: 'fuzz.example.com' },
}).text;

const corpus = [
  generated,
  `apiVersion: sympozium.ai/v1alpha1
kind: AgentRun
metadata: {name: run-1, labels: {sympozium.ai/instance: fuzz}}
spec:
  instanceRef: fuzz
  agentId: primary
  sessionKey: s1
  task: "list the pods"
  model: {provider: openai, model: gpt-4.1, authSecretRef: fuzz-openai-key}
  timeout: 10m
  mode: task
status: {phase: Succeeded, tokenUsage: {inputTokens: 10, outputTokens: 5, totalTokens: 15, toolCalls: 0, durationMs: 1200}}
`,
  `apiVersion: sympozium.ai/v1alpha1
kind: SkillPack
metadata: {name: web-endpoint, namespace: sympozium-system}
spec:
  category: connectivity
  skills: [{name: web, content: "# Web"}]
  sidecar: {image: ghcr.io/x/proxy:1, requiresServer: true, ports: [{name: http, containerPort: 8080}]}
`,
  `{"apiVersion":"sympozium.ai/v1alpha1","kind":"SympoziumPolicy","metadata":{"name":"restrictive"},"spec":{"sandboxPolicy":{"required":true},"toolGating":{"defaultAction":"deny","rules":[{"tool":"exec","action":"allow"}]}}}`,
];

const yamlBits = ['[', ']', '{', '}', ':', ': ', '- ', '&a ', '*a', '!!str ', '|', '>', "'", '"', '#', '%YAML 1.2\n', '---\n', '...\n', ',', '?', '@', '`', '\t', '\n', '  ', '<<: *a\n', '\u0000', '\uFEFF', 'null', '~', '0x1F', '1e400', '.inf', 'yes', 'off'];

function mutate(text: string, rng: ReturnType<typeof random>): string {
  let result = text;
  const rounds = 1 + rng.int(6);
  for (let round = 0; round < rounds; round++) {
    const at = rng.int(result.length + 1);
    switch (rng.int(8)) {
      case 0: // delete a range
        result = result.slice(0, at) + result.slice(at + rng.int(40));
        break;
      case 1: // insert YAML syntax
        result = result.slice(0, at) + rng.pick(yamlBits) + result.slice(at);
        break;
      case 2: {
        // duplicate, drop or swap lines
        const lines = result.split('\n');
        const line = rng.int(lines.length);
        const action = rng.int(3);
        if (action === 0) lines.splice(line, 0, lines[line] ?? '');
        else if (action === 1) lines.splice(line, 1);
        else [lines[line], lines[0]] = [lines[0] ?? '', lines[line] ?? ''];
        result = lines.join('\n');
        break;
      }
      case 3: // change the indentation of a line
        result = result.replace(/\n( *)/g, (match, spaces: string) => (rng.next() < 0.1 ? `\n${' '.repeat(Math.max(0, spaces.length + rng.int(5) - 2))}` : match));
        break;
      case 4: // truncate
        result = result.slice(0, at);
        break;
      case 5: // random characters, including non-ASCII
        result = result.slice(0, at) + String.fromCharCode(...Array.from({ length: 1 + rng.int(8) }, () => rng.int(0x3000))) + result.slice(at);
        break;
      case 6: // swap a scalar for another type
        result = result.replace(/: [^\n]+/, rng.pick([': 42', ': true', ': [1, 2]', ': {a: b}', ': null', ': ""', ': -1', ': 1.5']));
        break;
      default: // nest
        result = result.slice(0, at) + '['.repeat(rng.int(150)) + result.slice(at);
    }
  }
  return result;
}

/** Random objects shaped loosely like manifests, for the schema checker rather than the YAML parser. */
function randomValue(rng: ReturnType<typeof random>, depth: number): unknown {
  const keys = ['apiVersion', 'kind', 'metadata', 'name', 'spec', 'agents', 'default', 'model', 'skills', 'params', 'channels', 'type', 'configRef', 'secret', 'authRefs', 'memory', 'enabled', 'status', 'phase', 'x'];
  switch (depth > 4 ? rng.int(4) : rng.int(7)) {
    case 0:
      return rng.pick(['sympozium.ai/v1alpha1', 'SympoziumInstance', 'AgentRun', 'SkillPack', 'v1', 'Secret', 'off', '', 'gpt-4.1']);
    case 1:
      return rng.pick([0, -1, 1.5, 2 ** 53, Number.MAX_VALUE]);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return 'x'.repeat(rng.int(10));
    case 4:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: rng.int(6) }, () => [rng.pick(keys), randomValue(rng, depth + 1)]));
  }
}

function checkProblems(problems: Problem[], input: string): void {
  for (const problem of problems) {
    const shape =
      typeof problem.source === 'string' &&
      Number.isInteger(problem.line) &&
      problem.line >= 0 &&
      Number.isInteger(problem.column) &&
      problem.column >= 0 &&
      typeof problem.path === 'string' &&
      typeof problem.message === 'string' &&
      problem.message.length > 0 &&
      (problem.severity === 'error' || problem.severity === 'note');
    if (!shape) throw new Error(`malformed problem ${JSON.stringify(problem)} for input ${JSON.stringify(input.slice(0, 500))}`);
    formatProblem(problem);
  }
}

function validateText(input: string | Buffer): Problem[] {
  const parsed = parseManifests(input, 'fuzz.yaml');
  const problems = [...parsed.problems, ...validateDocuments(parsed.documents)];
  checkProblems(problems, String(input));
  return problems;
}

describe(`validate fuzz (seed ${seed})`, () => {
  it('the seed corpus is valid, so mutations start from good input', () => {
    for (const text of corpus) expect(validateText(text).filter((problem) => problem.severity === 'error')).toEqual([]);
  });

  it(`${iterations} mutated manifests end in problems, never in an exception`, () => {
    const rng = random(seed);
    let invalid = 0;
    for (let iteration = 0; iteration < iterations; iteration++) {
      const input = mutate(rng.pick(corpus), rng);
      try {
        if (validateText(input).some((problem) => problem.severity === 'error')) invalid++;
      } catch (error) {
        throw new Error(`iteration ${iteration} (FUZZ_SEED=${seed}) threw on ${JSON.stringify(input.slice(0, 2000))}: ${(error as Error).stack}`);
      }
    }
    // The mutations must really exercise the error paths, not just produce valid files.
    expect(invalid).toBeGreaterThan(iterations / 3);
  });

  it('random bytes and random structures end in problems, never in an exception', () => {
    const rng = random(seed + 1);
    for (let iteration = 0; iteration < 300; iteration++) {
      const bytes = Buffer.from(Array.from({ length: rng.int(400) }, () => rng.int(256)));
      validateText(bytes);
      const structure = { apiVersion: 'sympozium.ai/v1alpha1', kind: rng.pick(['SympoziumInstance', 'AgentRun', 'SkillPack', 'SympoziumPolicy', 'Secret']), ...(randomValue(rng, 0) as object) };
      validateText(stringify(structure));
      validateText(JSON.stringify(structure));
    }
  });
});

describe('validate fuzz through the built bin', () => {
  let build: PrivateBuild;
  beforeAll(() => {
    build = buildPrivateCopy('sympozium-fuzz-');
  });
  afterAll(() => build?.remove());

  it('exits 0 or 2, cleanly, for a handful of mutated files', async () => {
    const rng = random(seed + 2);
    const dir = path.join(build.dir, 'inputs');
    mkdirSync(dir);
    const files: string[] = [];
    for (let index = 0; index < 12; index++) {
      const file = `input-${index}.yaml`;
      writeFileSync(path.join(dir, file), index % 4 === 3 ? Buffer.from(Array.from({ length: 200 }, () => rng.int(256))) : mutate(rng.pick(corpus), rng));
      files.push(file);
    }
    // One file per run for a few, and all of them at once.
    for (const args of [...files.slice(0, 4).map((file) => [file]), files]) {
      const result = await runPrivateBin(build.bin, ['validate', '-f', ...args], { cwd: dir });
      expect([0, 2], `${args.join(' ')}: ${result.stderr}`).toContain(result.code);
      expect(result.stderr).not.toContain('unexpected failure');
    }
  });
});
