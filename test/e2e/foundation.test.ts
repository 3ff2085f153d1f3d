import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { binPath, ensureBuilt, repoRoot, runBin } from '../support/bin.js';
import { loadedModules } from '../support/loaded-modules.js';

beforeAll(() => ensureBuilt());

describe('the sympozium binary', () => {
  it('prints its version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await runBin(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
    expect(result.stderr).toBe('');
  });

  it('alone prints a short overview, not the full reference', async () => {
    const result = await runBin([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('sympozium dev up');
    expect(result.stdout.split('\n').length).toBeLessThan(20);
  });

  it('shows examples in the help of every command', async () => {
    const commands = [
      ['init'], ['validate'], ['apply'], ['migrate'], ['instances', 'list'], ['instances', 'describe'], ['instances', 'delete'],
      ['enable', 'web-endpoint'], ['disable', 'web-endpoint'], ['key', 'show'], ['key', 'rotate'], ['runs', 'list'],
      ['runs', 'get'], ['runs', 'tail'], ['chat'], ['models'], ['env'], ['proxy'], ['mcp'], ['doctor'], ['dev', 'up'], ['completion'],
    ];
    for (const command of commands) {
      const result = await runBin([...command, '--help']);
      expect(result.code, command.join(' ')).toBe(0);
      expect(result.stdout, command.join(' ')).toContain('Examples:');
      expect(result.stdout, command.join(' ')).toContain(`sympozium ${command[0]}`);
    }
  });

  it('suggests the closest command or flag and exits 2 on bad usage', async () => {
    const typo = await runBin(['chatt']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("unknown command 'chatt'");
    expect(typo.stderr).toContain('Did you mean chat?');

    const flag = await runBin(['key', 'show', 'demo', '--revel']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('Did you mean --reveal?');

    const format = await runBin(['-o', 'xml', 'doctor']);
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('-o xml is not an output format');
    expect(format.stderr).toContain('Choose one of: table, wide, json, yaml, name, jsonpath=<...>, jsonpath-file=<...>, custom-columns=<...>');

    const unsupported = await runBin(['doctor', '-o', 'name']);
    expect(unsupported.code).toBe(2);
    expect(unsupported.stderr).toContain('-o name is not supported by `sympozium doctor`');
    // Formats a command cannot print are refused, never silently ignored.
    for (const args of [['disable', 'web-endpoint', 'demo', '-o', 'name'], ['chat', 'demo', 'hi', '-o', 'name'], ['key', 'show', 'demo', '-o', 'name'], ['validate', '-f', 'x.yaml', '-o', 'wide']]) {
      const refused = await runBin(args);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr).toMatch(/-o (name|wide) is not supported by `sympozium /);
    }

    const phase = await runBin(['runs', 'list', '--phase', 'Bogus']);
    expect(phase.code).toBe(2);
    expect(phase.stderr).toContain('--phase must be one of Pending, Running');

    const missing = await runBin(['enable', 'web-endpoint']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'instance'");

    const duration = await runBin(['chat', 'demo', '-m', 'hi', '--timeout', 'soon']);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain('--timeout must be a duration');
  });

  it('says what to do when there is no kubeconfig', async () => {
    const result = await runBin(['instances', 'list'], { env: { KUBECONFIG: '/nonexistent/kubeconfig', HOME: '/nonexistent' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no kubeconfig found');
    expect(result.stderr).toContain('sympozium dev up');
  });

  it('completes commands, subcommands and flag values', async () => {
    const top = await runBin(['__complete', 'ch']);
    expect(top.stdout.trim()).toBe('chat');
    const sub = await runBin(['__complete', 'key', '']);
    expect(sub.stdout.split('\n')).toEqual(expect.arrayContaining(['show', 'rotate']));
    const output = await runBin(['__complete', 'runs', 'list', '-o', 'j']);
    expect(output.stdout.trim().split('\n')).toEqual(['json', 'jsonpath=', 'jsonpath-file=']);
    for (const shell of ['bash', 'zsh', 'fish']) {
      const script = await runBin(['completion', shell]);
      expect(script.code).toBe(0);
      expect(script.stdout).toContain('__complete');
    }
    const unknown = await runBin(['completion', 'tcsh']);
    expect(unknown.code).toBe(2);
  });

  it('starts without loading client-node, inquirer or ora', async () => {
    // Every module file Node loads for `--version` and `--help`, recorded through a resolve hook; none of the heavy
    // dependencies' code may be in any of them (the bundle keeps their source paths as comments).
    for (const args of [['--version'], ['key', 'show', '--help']]) {
      const files = await loadedModules(args);
      // `key` has a one-file bundle of its own (scripts/build.mjs oneFileCommands); it must be as light.
      expect(files.some((file) => /dist\/(main|key)\.js$/.test(file))).toBe(true);
      for (const file of files.filter((f) => f.includes('/dist/'))) {
        const text = readFileSync(file, 'utf8');
        expect(text, file).not.toContain('node_modules/@kubernetes/client-node');
        expect(text, file).not.toContain('node_modules/inquirer');
        expect(text, file).not.toContain('node_modules/ora/');
      }
    }
  });

  it('works as a kubectl plugin, with completion in cobra format', () => {
    const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
    if (kubectl.error) {
      console.warn('skipping the kubectl plugin test: kubectl is not on PATH');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'sympozium-plugin-'));
    try {
      symlinkSync(join(repoRoot, 'bin', 'kubectl-sympozium.js'), join(dir, 'kubectl-sympozium'));
      const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
      const version = spawnSync('kubectl', ['sympozium', '--version'], { encoding: 'utf8', env });
      expect(version.status).toBe(0);
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
      const help = spawnSync('kubectl', ['sympozium', 'key', 'show', '--help'], { encoding: 'utf8', env });
      expect(help.status).toBe(0);
      expect(help.stdout).toContain('Usage: kubectl sympozium key show');
      const completion = spawnSync(process.execPath, [join(repoRoot, 'bin', 'kubectl_complete-sympozium.js'), 'key', ''], { encoding: 'utf8', env });
      expect(completion.stdout.split('\n')).toEqual(['show', 'rotate', ':4', '']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops quietly when the reader of its output goes away (`| head`)', () => {
    const result = spawnSync('bash', ['-c', `node ${binPath} --help | head -1`], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: sympozium');
    expect(result.stderr).not.toContain('EPIPE');
  });

  it('builds only the command it runs, yet still suggests across all of them', async () => {
    const alias = await runBin(['inst', 'lst']);
    expect(alias.code).toBe(2);
    expect(alias.stderr).toContain("unknown command 'lst'");
    const afterGlobals = await runBin(['-n', 'other', '-o', 'json', 'key', 'show', '--help']);
    expect(afterGlobals.code).toBe(0);
    expect(afterGlobals.stdout).toContain('Usage: sympozium key show');
  });

  it('prints exactly one YAML document with -o yaml', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sympozium-yaml-'));
    try {
      const file = join(dir, 'demo.yaml');
      expect((await runBin(['init', 'demo', '--yes', '--out', file])).code).toBe(0);
      const result = await runBin(['validate', '-f', file, '-o', 'yaml']);
      expect(result.stderr).not.toContain('unexpected failure');
      expect(result.code).toBe(0);
      const problems = parseAllDocuments(result.stdout);
      expect(problems).toHaveLength(1);
      expect(problems[0]!.toJS()).toEqual([expect.objectContaining({ source: file, severity: 'note' })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
