import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { init, type InitOptions } from '../../src/commands/init.js';
import type { Context, GlobalOptions } from '../../src/context.js';
import { CliError } from '../../src/errors.js';
import { parseManifests } from '../../src/sympozium/manifests.js';
import { providerNames } from '../../src/sympozium/scaffold.js';
import { formatProblem, validateDocuments } from '../../src/sympozium/validate.js';
import { Output } from '../../src/ui/output.js';
import type { Prompter } from '../../src/ui/prompts.js';

const root = mkdtempSync(path.join(tmpdir(), 'sympozium-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** A prompter that answers from a script and fails on any question the script does not expect, in order. */
function scripted(script: [question: string, answer: unknown][]): Prompter & { asked: string[]; remaining: () => number } {
  const asked: string[] = [];
  const next = async (message: string) => {
    asked.push(message);
    const step = script.shift();
    if (!step) throw new Error(`unexpected question: ${message}`);
    if (!message.includes(step[0])) throw new Error(`expected a question about "${step[0]}", got "${message}"`);
    return step[1] as never;
  };
  return {
    asked,
    remaining: () => script.length,
    // Like inquirer: an answer the question's validate() refuses is asked again (the next scripted answer).
    input: async (q) => {
      for (;;) {
        const answer = (await next(q.message)) as string;
        if (!q.validate || q.validate(answer) === true) return answer;
      }
    },
    password: (q) => next(q.message),
    confirm: (q) => next(q.message),
    select: (q) => next(q.message),
    checkbox: (q) => next(q.message),
  };
}

function context(options: { interactive?: boolean; yes?: boolean; namespace?: string; env?: NodeJS.ProcessEnv; prompt?: Prompter } = {}) {
  const cwd = path.join(root, `case-${++dirs}`);
  mkdirSync(cwd);
  const printed = { stdout: '', stderr: '' };
  const globals: GlobalOptions = {
    output: 'table',
    outputExplicit: false,
    yes: options.yes ?? false,
    quiet: false,
    verbose: false,
    color: false,
    namespace: options.namespace,
  };
  const ctx: Context = {
    out: new Output({
      stdout: { write: (text: string) => (printed.stdout += text) },
      stderr: { write: (text: string) => (printed.stderr += text) },
      color: false,
    }),
    prompt: options.prompt ?? scripted([]),
    globals,
    env: options.env ?? {},
    cwd,
    stdin: Readable.from([]),
    interactive: options.interactive ?? false,
    now: () => new Date(0),
    signal: new AbortController().signal,
    kube: async () => {
      throw new Error('init must not talk to the cluster');
    },
  };
  return { ctx, printed, cwd };
}

async function run(options: InitOptions, contextOptions: Parameters<typeof context>[0] = {}) {
  const made = context(contextOptions);
  await init(options, made.ctx);
  const written = readdirSync(made.cwd).filter((name) => name.endsWith('.yaml'));
  const file = options.out === '-' ? undefined : path.join(made.cwd, options.out ?? written[0]!);
  const text = file ? readFileSync(file, 'utf8') : made.printed.stdout;
  const [secret, instance] = parseAllDocuments(text).map((doc) => doc.toJS()) as any[];
  return { ...made, file, text, secret, instance };
}

function expectValid(text: string) {
  const parsed = parseManifests(text, 'generated.yaml');
  const problems = [...parsed.problems, ...validateDocuments(parsed.documents)];
  expect(problems.filter((problem) => problem.severity === 'error').map(formatProblem)).toEqual([]);
}

describe('init with flags and --yes', () => {
  it('writes <name>.yaml: the provider Secret with a marked placeholder, then the instance', async () => {
    const { text, secret, instance, printed, file } = await run({ name: 'demo', provider: 'openai', model: 'gpt-4.1' }, { yes: true });
    expect(text.indexOf('kind: Secret')).toBeLessThan(text.indexOf('kind: SympoziumInstance'));
    expect(secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'demo-openai-key', labels: { 'sympozium.ai/instance': 'demo' }, annotations: { 'sympozium.ai/placeholder': 'true' } },
      type: 'Opaque',
      stringData: { OPENAI_API_KEY: 'REPLACE_WITH_YOUR_OPENAI_API_KEY' },
    });
    expect(text).toContain('# PLACEHOLDER: sympozium never writes your key to a file');
    expect(instance).toEqual({
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'SympoziumInstance',
      metadata: { name: 'demo' },
      spec: {
        agents: { default: { model: 'gpt-4.1' } },
        authRefs: [{ provider: 'openai', secret: 'demo-openai-key' }],
      },
    });
    // No policyRef unless asked: upstream has no `default` policy and fails every run of an instance whose
    // policy is missing from its namespace.
    expect(text).not.toContain('policyRef');
    expectValid(text);
    expect(statSync(file!).mode & 0o777).toBe(0o644);
    // The one-line command that creates the Secret reads the key from the environment, never inline.
    expect(printed.stderr).toContain('kubectl create secret generic demo-openai-key --from-literal=OPENAI_API_KEY="$OPENAI_API_KEY"');
    expect(printed.stderr).toContain('sympozium apply -f demo.yaml --wait');
  });

  it('gives byte-identical output for the same answers', async () => {
    const options: InitOptions = {
      name: 'same',
      provider: 'anthropic',
      skill: ['k8s-ops:CLUSTER=prod', 'memory'],
      channel: ['slack:slack-creds'],
      allowedSender: ['U123'],
      webEndpoint: true,
      hostname: 'same.example.com',
      systemPrompt: 'Be brief.',
      observability: 'otel-collector.observability.svc:4317',
      out: '-',
    };
    const first = await run(options, { yes: true });
    const second = await run(options, { yes: true });
    expect(second.text).toBe(first.text);
    expectValid(first.text);
  });

  it('sets every flag as a typed field', async () => {
    const { instance, secret } = await run(
      {
        name: 'full',
        provider: 'ollama',
        model: 'qwen2.5',
        baseUrl: 'http://ollama.ai.svc:11434/v1',
        thinking: 'high',
        skill: ['k8s-ops:CLUSTER=prod,MODE=yes', 'web-endpoint:auth_secret_ref=my-key'],
        policy: 'restrictive',
        channel: ['telegram:tg-creds', 'discord:dc'],
        allowedSender: ['123456', '42'],
        memory: true,
        systemPrompt: 'You are terse.\nAnswer in English.',
        observability: 'http://otel:4318',
        rpm: 120,
        burst: 20,
        out: '-',
      },
      { yes: true, namespace: 'agents' },
    );
    expect(secret.metadata.namespace).toBe('agents');
    expect(secret.stringData).toEqual({ OPENAI_API_KEY: 'ollama' });
    expect(secret.metadata.annotations).toBeUndefined();
    expect(instance.metadata).toEqual({ name: 'full', namespace: 'agents' });
    expect(instance.spec).toEqual({
      agents: { default: { model: 'qwen2.5', baseURL: 'http://ollama.ai.svc:11434/v1', thinking: 'high' } },
      authRefs: [{ provider: 'ollama', secret: 'full-ollama-key' }],
      policyRef: 'restrictive',
      skills: [
        { skillPackRef: 'k8s-ops', params: { CLUSTER: 'prod', MODE: 'yes' } },
        { skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '120', rate_limit_burst: '20', auth_secret_ref: 'my-key' } },
      ],
      channels: [
        { type: 'telegram', configRef: { secret: 'tg-creds' }, accessControl: { allowedSenders: ['123456', '42'] } },
        { type: 'discord', configRef: { secret: 'dc' }, accessControl: { allowedSenders: ['123456', '42'] } },
      ],
      memory: { enabled: true, maxSizeKB: 256, systemPrompt: 'You are terse.\nAnswer in English.' },
      observability: { enabled: true, otlpEndpoint: 'http://otel:4318', otlpProtocol: 'http/protobuf' },
    });
  });

  it('quotes strings kubectl would read as booleans (YAML 1.1)', async () => {
    const { text } = await run({ name: 'quoted', skill: ['x:ENABLED=yes,OTHER=off'], out: '-' }, { yes: true });
    expect(text).toContain('ENABLED: "yes"');
    expect(text).toContain('OTHER: "off"');
    expectValid(text);
  });

  it('every provider, kind and option combination generates a manifest valid for its release', async () => {
    for (const provider of providerNames) {
      for (const [kind, release] of [['SympoziumInstance', 'v0.5.8'], ['Agent', 'v0.10.46']] as const) {
        for (const web of [false, true]) {
          const { text, instance } = await run(
            { name: `p-${provider}`, kind, provider, model: 'm', baseUrl: 'https://models.example.com/v1', webEndpoint: web, memory: !web, out: '-', channel: ['slack:s'] },
            { yes: true },
          );
          expect(instance.kind).toBe(kind);
          const parsed = parseManifests(text, 'generated.yaml');
          // Judged by the release's own CRDs, forced, so the verdict cannot come from the other release.
          const problems = validateDocuments(parsed.documents, { release });
          expect(problems.filter((problem) => problem.severity === 'error').map(formatProblem)).toEqual([]);
        }
      }
    }
  });
});

describe('init reads the key only from the environment, and only when asked', () => {
  it('--api-key-env puts the key in stringData and writes the file with mode 0600', async () => {
    const key = 'sk-test-0123456789abcdef';
    const { secret, file, printed, text } = await run({ name: 'keyed', apiKeyEnv: 'MY_OPENAI_KEY' }, { yes: true, env: { MY_OPENAI_KEY: key } });
    expect(secret.stringData).toEqual({ OPENAI_API_KEY: key });
    expect(secret.metadata.annotations).toBeUndefined();
    expect(statSync(file!).mode & 0o777).toBe(0o600);
    expect(text).not.toContain('PLACEHOLDER');
    expect(printed.stderr).not.toContain(key);
    expect(printed.stderr).not.toContain('kubectl create secret');
  });

  it('bedrock reads each AWS variable, by its own name or mapped', async () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIA1', MY_SECRET: 's3cr3t' };
    const { secret } = await run({ name: 'rock', provider: 'bedrock', apiKeyEnv: 'AWS_SECRET_ACCESS_KEY=MY_SECRET', out: '-' }, { yes: true, env });
    expect(secret.stringData).toEqual({ AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's3cr3t' });
  });

  it('an unset variable is a usage error naming it', async () => {
    const attempt = run({ name: 'nokey', apiKeyEnv: 'NOT_SET_ANYWHERE' }, { yes: true });
    await expect(attempt).rejects.toMatchObject({ exitCode: 2, message: 'environment variable NOT_SET_ANYWHERE is not set' });
  });
});

describe('init without a terminal', () => {
  it('names the missing argument or flag instead of asking', async () => {
    await expect(run({})).rejects.toMatchObject({ exitCode: 2, message: 'missing the instance name', hint: expect.stringContaining('sympozium init <name>') });
    await expect(run({ name: 'c', provider: 'custom', model: 'm' })).rejects.toMatchObject({ exitCode: 2, message: 'missing value for --base-url' });
    await expect(run({ name: 'c', provider: 'custom', baseUrl: 'https://llm.example.com/v1' })).rejects.toMatchObject({ message: 'missing value for --model' });
    await expect(run({ name: 'c', provider: 'azure-openai' })).rejects.toMatchObject({ message: 'missing value for --base-url' });
  });

  it('takes the defaults for everything that has one', async () => {
    const { instance } = await run({ name: 'quiet' });
    expect(instance.spec.agents.default.model).toBe('gpt-4.1');
  });

  it('rejects bad flag values with a usage error', async () => {
    const bad: [InitOptions, RegExp][] = [
      [{ name: 'Bad_Name' }, /the instance name "Bad_Name" is not valid/],
      [{ name: 'x', skill: ['k8s-ops:CLUSTER'] }, /--skill "k8s-ops:CLUSTER": "CLUSTER" is not key=value/],
      [{ name: 'x', skill: ['a', 'a:k=v'] }, /--skill a is given twice/],
      [{ name: 'x', channel: ['irc:creds'] }, /--channel "irc:creds" is not <type>:<secret>/],
      [{ name: 'x', allowedSender: ['1'] }, /--allowed-sender needs a channel/],
      [{ name: 'x', baseUrl: 'ftp://x' }, /--base-url "ftp:\/\/x" is not valid/],
      [{ name: 'x', out: '-', apply: true }, /--apply needs a file/],
    ];
    for (const [options, message] of bad) {
      const attempt = run(options, { yes: true });
      await expect(attempt, JSON.stringify(options)).rejects.toBeInstanceOf(CliError);
      await expect(attempt, JSON.stringify(options)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(message) });
    }
  });
});

describe('init refuses to overwrite', () => {
  it('exits 2 with a hint, before asking anything, unless --force', async () => {
    const made = context({ interactive: true });
    writeFileSync(path.join(made.cwd, 'demo.yaml'), 'mine\n');
    await expect(init({ name: 'demo' }, made.ctx)).rejects.toMatchObject({
      exitCode: 2,
      message: 'demo.yaml already exists',
      hint: 'Pass --force to overwrite it, or --out <file> to write somewhere else.',
    });
    expect(readFileSync(path.join(made.cwd, 'demo.yaml'), 'utf8')).toBe('mine\n');
    await init({ name: 'demo', force: true }, { ...made.ctx, interactive: false });
    expect(readFileSync(path.join(made.cwd, 'demo.yaml'), 'utf8')).toContain('kind: SympoziumInstance');
    // No temporary files are left behind.
    expect(readdirSync(made.cwd)).toEqual(['demo.yaml']);
  });

  it('writes where --out says', async () => {
    const { file } = await run({ name: 'demo', out: 'elsewhere.yaml' }, { yes: true });
    expect(existsSync(file!)).toBe(true);
  });
});

describe('init on a terminal asks every question', () => {
  it('walks through the questions and writes what was answered', async () => {
    const prompt = scripted([
      ['Instance name', 'asked'],
      ['Namespace', 'team-a'],
      ['Kind', 'Agent'],
      ['Model provider', 'anthropic'],
      ['Model', 'claude-sonnet-4-5'],
      ['Environment variable holding your Anthropic key', ''],
      ['Reasoning effort', 'medium'],
      ['Skills', ['k8s-ops', 'sre-observability']],
      ['Policy', '(another)'],
      ['Policy name', 'team-policy'],
      ['Chat channels', ['telegram']],
      ['Secret holding the telegram token', 'asked-telegram'],
      ['Allowed sender IDs', '111, 222'],
      ['Keep memory', true],
      ['System prompt', 'Be kind.'],
      ['OTLP endpoint', ''],
      ['web endpoint', true],
      ['requests per minute', '30'],
      ['burst size', '5'],
      ['Public hostname', 'asked.example.com'],
    ]);
    const { instance, secret, text } = await run({}, { interactive: true, prompt });
    expect(prompt.remaining()).toBe(0);
    expect(instance.kind).toBe('Agent');
    expect(secret.metadata).toMatchObject({ name: 'asked-anthropic-key', namespace: 'team-a' });
    expect(instance.spec).toEqual({
      agents: { default: { model: 'claude-sonnet-4-5', thinking: 'medium' } },
      authRefs: [{ provider: 'anthropic', secret: 'asked-anthropic-key' }],
      policyRef: 'team-policy',
      skills: [
        { skillPackRef: 'k8s-ops' },
        { skillPackRef: 'sre-observability' },
        { skillPackRef: 'web-endpoint', params: { rate_limit_rpm: '30', rate_limit_burst: '5', hostname: 'asked.example.com' } },
      ],
      channels: [{ type: 'telegram', configRef: { secret: 'asked-telegram' }, accessControl: { allowedSenders: ['111', '222'] } }],
      memory: { enabled: true, maxSizeKB: 256, systemPrompt: 'Be kind.' },
    });
    expectValid(text);
  });

  it('asks again for a key variable that is not set, keeping the answers so far', async () => {
    const prompt = scripted([
      ['Namespace', ''],
      ['Kind', 'SympoziumInstance'],
      ['Environment variable holding your Anthropic key', 'NOPE_VAR'],
      ['Environment variable holding your Anthropic key', 'MY_ANTHROPIC_KEY'],
      ['OTLP endpoint', ''],
    ]);
    const { secret } = await run(
      { name: 'keyed', provider: 'anthropic', model: 'claude-sonnet-4-5', thinking: 'off', skill: [], policy: 'permissive', channel: [], memory: false, webEndpoint: false },
      { interactive: true, prompt, env: { MY_ANTHROPIC_KEY: 'sk-ant-test' } },
    );
    expect(prompt.remaining()).toBe(0);
    expect(secret.stringData).toEqual({ ANTHROPIC_API_KEY: 'sk-ant-test' });
  });

  it('asks only what the flags leave open, and nothing under --yes', async () => {
    const prompt = scripted([
      ['Namespace', ''],
      ['Kind', 'SympoziumInstance'],
      ['Reasoning effort', 'off'],
      ['Skills', []],
      ['Policy', 'permissive'],
      ['Chat channels', []],
      ['Keep memory', false],
      ['OTLP endpoint', 'otel:4317'],
    ]);
    const { instance } = await run({ name: 'partial', provider: 'openai', model: 'gpt-4.1-mini', apiKeyEnv: 'K', webEndpoint: false }, { interactive: true, prompt, env: { K: 'sk-x' } });
    expect(prompt.remaining()).toBe(0);
    expect(instance.spec.observability).toEqual({ enabled: true, otlpEndpoint: 'otel:4317', otlpProtocol: 'grpc' });
    const silent = scripted([]);
    await run({ name: 'silent' }, { interactive: true, yes: true, prompt: silent });
    expect(silent.asked).toEqual([]);
  });
});

describe('the templates', () => {
  it('are real, valid YAML files under templates/', () => {
    for (const name of ['instance.yaml', 'secret.yaml']) {
      const text = readFileSync(new URL(`../../templates/${name}`, import.meta.url), 'utf8');
      expect(() => parse(text)).not.toThrow();
      expectValid(text);
    }
  });
});
