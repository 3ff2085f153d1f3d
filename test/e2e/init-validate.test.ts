import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPrivateCopy, runPrivateBin, type PrivateBuild } from '../support/private-build.js';

/**
 * `sympozium init` and `sympozium validate` as a user runs them: the built bin, in a shell without a TTY,
 * CI=1 FORCE_COLOR=0, from a private build (see private-build.ts).
 */

let build: PrivateBuild;
beforeAll(() => {
  build = buildPrivateCopy('sympozium-e2e-init-');
});
afterAll(() => build?.remove());

let cases = 0;
function freshDir(): string {
  const dir = path.join(build.dir, `case-${++cases}`);
  mkdirSync(dir);
  return dir;
}

const sympozium = (args: string[], options: { cwd: string; input?: string | Buffer; env?: NodeJS.ProcessEnv }) => runPrivateBin(build.bin, args, options);

describe('sympozium init (built bin, no TTY)', () => {
  it('prints a valid manifest with --out -, which validate accepts from stdin', async () => {
    const cwd = freshDir();
    const init = await sympozium(['init', 'demo', '--provider', 'openai', '--model', 'gpt-4.1', '--yes', '--out', '-'], { cwd });
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('kind: SympoziumInstance');
    expect(init.stdout).toContain('      model: gpt-4.1');
    expect(init.stdout).toContain('    - provider: openai\n      secret: demo-openai-key');
    expect(init.stderr).toContain('kubectl create secret generic demo-openai-key --from-literal=OPENAI_API_KEY="$OPENAI_API_KEY"');
    const check = await sympozium(['validate', '-f', '-'], { cwd, input: init.stdout });
    expect(check.stderr).toBe('✔ 2 documents in 1 file valid, 1 note (Sympozium release v0.5.8)\n');
    expect(check.stdout).toMatch(/^<stdin>:\d+:1  note: this Secret holds a placeholder/);
    expect(check.code).toBe(0);
  });

  it('writes <name>.yaml, then refuses to overwrite it without --force (exit 2, with a hint)', async () => {
    const cwd = freshDir();
    const first = await sympozium(['init', 'demo', '--yes'], { cwd });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('✔ wrote demo.yaml: Secret demo-openai-key and SympoziumInstance demo');
    const before = readFileSync(path.join(cwd, 'demo.yaml'), 'utf8');

    const again = await sympozium(['init', 'demo', '--yes', '--model', 'gpt-4.1-mini'], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('error: demo.yaml already exists\nPass --force to overwrite it, or --out <file> to write somewhere else.\n');
    expect(readFileSync(path.join(cwd, 'demo.yaml'), 'utf8')).toBe(before);

    const forced = await sympozium(['init', 'demo', '--yes', '--model', 'gpt-4.1-mini', '--force'], { cwd });
    expect(forced.code).toBe(0);
    expect(readFileSync(path.join(cwd, 'demo.yaml'), 'utf8')).toContain('model: gpt-4.1-mini');
    expect((await sympozium(['validate', '-f', 'demo.yaml'], { cwd })).code).toBe(0);
  });

  it('without a TTY and without a name, says which argument to pass', async () => {
    const result = await sympozium(['init'], { cwd: freshDir() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('error: missing the instance name');
    expect(result.stderr).toContain('sympozium init <name>');
  });

  it('puts a key from --api-key-env into a 0600 file, and never prints it', async () => {
    const cwd = freshDir();
    const key = 'sk-e2e-secret-value-0123456789';
    const result = await sympozium(['init', 'keyed', '--provider', 'anthropic', '--api-key-env', 'ANTHROPIC_API_KEY', '--yes'], {
      cwd,
      env: { ANTHROPIC_API_KEY: key },
    });
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(key);
    expect(statSync(path.join(cwd, 'keyed.yaml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(cwd, 'keyed.yaml'), 'utf8')).toContain(`ANTHROPIC_API_KEY: ${key}`);
  });
});

describe('sympozium validate (built bin)', () => {
  it('lists every problem with file:line:col and path, and exits 2', async () => {
    const cwd = freshDir();
    writeFileSync(
      path.join(cwd, 'bad.yaml'),
      'apiVersion: sympozium.ai/v1alpha1\nkind: SympoziumInstance\nmetadata:\n  name: bad\nspec:\n  agents:\n    default: {}\n  channels:\n    - type: telegram\n      secretRef: tg\n',
    );
    const result = await sympozium(['validate', '-f', 'bad.yaml'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe(
      'bad.yaml:7:14  spec.agents.default.model: required\n' +
        'bad.yaml:10:7  spec.channels[0].secretRef: unknown field "secretRef" (did you mean configRef.secret?)\n',
    );
    // Upstream's v0.5.8 CRD does not require channels[].configRef (WhatsApp needs none).
    expect(result.stderr).toContain('error: 2 problems in 1 file');

    const json = await sympozium(['validate', '-f', 'bad.yaml', '-o', 'json'], { cwd });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toHaveLength(2);
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ source: 'bad.yaml', line: 7, column: 14, path: 'spec.agents.default.model', message: 'required', severity: 'error' });
  });

  it('ends hostile input cleanly: binary junk, an alias bomb, deep nesting, a huge file', async () => {
    const cwd = freshDir();
    writeFileSync(path.join(cwd, 'junk.yaml'), Buffer.from([0x00, 0xff, 0x13, 0x37, 0x00]));
    const bomb = ['a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]'];
    for (let level = 1; level < 9; level++) bomb.push(`${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(9).fill(`*${String.fromCharCode(96 + level)}`).join(',')}]`);
    writeFileSync(path.join(cwd, 'bomb.yaml'), `${bomb.join('\n')}\n`);
    writeFileSync(path.join(cwd, 'deep.yaml'), `x: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`);
    writeFileSync(path.join(cwd, 'huge.yaml'), Buffer.alloc(50 * 1024 * 1024, 'a'));
    const result = await sympozium(['validate', '-f', 'junk.yaml', 'bomb.yaml', 'deep.yaml', 'huge.yaml'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe(
      'junk.yaml  binary data, not a YAML or JSON manifest (or UTF-16 text: save it as UTF-8)\n' +
        'bomb.yaml:1:1  too many aliases (more than 100 expansions): refusing what looks like a YAML alias bomb\n' +
        'deep.yaml:1:104  nested more than 100 levels deep; manifests are never this deep\n' +
        'huge.yaml  too large to be a manifest (50.0 MiB; the limit is 4 MiB, the API server accepts at most 3 MiB)\n',
    );
    expect(result.stderr).toContain('error: 4 problems in 4 files');
  });

  it('recurses into directories and passes unknown kinds with a note', async () => {
    const cwd = freshDir();
    mkdirSync(path.join(cwd, 'manifests/apps'), { recursive: true });
    writeFileSync(path.join(cwd, 'manifests/cm.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }));
    writeFileSync(path.join(cwd, 'manifests/apps/deploy.yml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n');
    const result = await sympozium(['validate', '-f', 'manifests'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('manifests/apps/deploy.yml:1:1  note: no bundled schema for apps/v1 Deployment; only apiVersion, kind and metadata were checked\n');
    expect(result.stderr).toBe('✔ 2 documents in 2 files valid, 1 note\n');
  });
});

describe('sympozium init on a terminal', () => {
  it('walks through the questions with inquirer and writes the answers', async () => {
    const { spawnPty } = await import('../support/pty.js');
    const cwd = freshDir();
    const env = { ...process.env, CI: '', FORCE_COLOR: '0', HOME: cwd };
    const session = spawnPty(process.execPath, [build.bin, 'init'], { cwd, env });
    try {
      // Each question is looked for after the previous one, so a repeated word cannot match an old prompt.
      let cursor = 0;
      const answer = async (question: RegExp, keys: string) => {
        const found = await session.waitFor(question, cursor);
        cursor = session.output().indexOf(found, cursor) + found.length;
        session.write(keys);
      };
      await answer(/Instance name/, 'tty\r');
      await answer(/Namespace/, '\r');
      await answer(/Kind/, '\r');
      await answer(/Model provider/, '\r');
      await answer(/Model \(gpt-4\.1\)/, '\r');
      await answer(/Environment variable holding your OpenAI key/, '\r');
      await answer(/Reasoning effort/, '\r');
      await answer(/Skills \(SkillPacks\) to mount/, ' \r');
      await answer(/Policy \(SympoziumPolicy\)/, '\r');
      await answer(/Chat channels/, '\r');
      await answer(/Keep memory between runs/, 'n\r');
      await answer(/OTLP endpoint/, '\r');
      await answer(/web endpoint\)\?/, 'y\r');
      await answer(/requests per minute/, '\r');
      await answer(/burst size/, '\r');
      await answer(/Public hostname/, '\r');
      expect(await session.exited(15_000)).toBe(0);
    } finally {
      session.kill();
    }
    const text = readFileSync(path.join(cwd, 'tty.yaml'), 'utf8');
    expect(text).toContain('    - skillPackRef: k8s-ops\n');
    expect(text).toContain('    - skillPackRef: web-endpoint\n      params:\n        rate_limit_rpm: "60"\n        rate_limit_burst: "10"\n');
    expect((await sympozium(['validate', '-f', 'tty.yaml'], { cwd })).code).toBe(0);
  });
});

describe('init --apply and validate --cluster against the local control plane', () => {
  let stateDir: string | undefined;
  afterAll(async () => {
    // Never leave a server behind, even when a test failed half-way.
    if (!stateDir) return;
    try {
      const { pid } = JSON.parse(readFileSync(path.join(stateDir, 'server.json'), 'utf8')) as { pid: number };
      process.kill(pid, 'SIGKILL');
    } catch {
      // not started or already gone
    }
  });

  it('applies what init wrote (never a placeholder Secret) and the cluster accepts it', async () => {
    const cwd = freshDir();
    stateDir = path.join(cwd, 'state');
    const env = { SYMPOZIUM_DEV_TIMINGS: 'fast', HOME: cwd, KUBECONFIG: path.join(stateDir, 'kubeconfig') };
    const up = await runPrivateBin(build.bin, ['dev', 'up', '--state-dir', stateDir], { cwd, env, timeoutMs: 40_000 });
    expect(up.code, up.stderr).toBe(0);
    try {
      const placeholder = await sympozium(['init', 'demo', '--yes', '--web-endpoint', '--apply'], { cwd, env });
      expect(placeholder.code, placeholder.stderr).toBe(0);
      expect(placeholder.stderr).toContain('not applying Secret demo-openai-key: it holds a placeholder. Create it with: kubectl create secret generic demo-openai-key');
      expect(placeholder.stdout).toContain('sympoziuminstance.sympozium.ai/demo created');
      expect(placeholder.stdout).not.toContain('secret/demo-openai-key');

      const keyless = await sympozium(['init', 'local', '--provider', 'ollama', '--yes', '--apply'], { cwd, env });
      expect(keyless.code, keyless.stderr).toBe(0);
      expect(keyless.stdout).toContain('secret/local-ollama-key created');
      expect(keyless.stdout).toContain('sympoziuminstance.sympozium.ai/local created');

      const check = await sympozium(['validate', '-f', 'demo.yaml', 'local.yaml', '--cluster'], { cwd, env });
      expect(check.stderr).toMatch(/✔ 4 documents in 2 files valid \(the CRDs of context "[^"]+" \(https:\/\/127\.0\.0\.1:\d+\) where it serves the kind, else the bundled ones\)/);
      expect(check.code).toBe(0);
    } finally {
      await runPrivateBin(build.bin, ['dev', 'down', '--state-dir', stateDir], { cwd, env, timeoutMs: 40_000 });
    }
  });
});
