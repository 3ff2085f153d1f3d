// The package as users get it: `npm pack`, then `npm install -g` of the tarball into a temporary prefix with no
// network (--offline), then the installed command runs the whole flow of scripts/demo.mjs against its own local
// control plane. The install lies outside the repository, so nothing can come from its node_modules: the bundle
// must hold everything that runs.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPrivateCopy, runPrivateBin, type PrivateBuild } from '../support/private-build.js';
import { packAndInstall, type Installed } from '../support/pack-install.js';

let build: PrivateBuild;
let installed: Installed;
let work: string;

beforeAll(() => {
  build = buildPrivateCopy('sympozium-pack-');
  work = path.join(build.dir, 'work');
  mkdirSync(path.join(work, 'home'), { recursive: true });
  installed = packAndInstall(path.dirname(path.dirname(build.bin)), work);
}, 120_000);

afterAll(async () => {
  if (installed) await sympozium(['dev', 'down']).catch(() => undefined);
  build?.remove();
});

const stateDir = () => path.join(work, 'dev-state');
const sympozium = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runPrivateBin(installed.bin, args, {
    cwd: path.join(work, 'home'),
    env: { SYMPOZIUM_DEV_HOME: stateDir(), SYMPOZIUM_DEV_TIMINGS: 'fast', PACK_TEST_OPENAI_KEY: 'sk-pack-test-offline', ...env },
    timeoutMs: 40_000,
  });

describe('the packed and installed package', () => {
  it('holds only what users need, and installs one package without a warning', () => {
    const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
    expect(path.basename(installed.tarball)).toBe(`sympozium-${version}.tgz`);
    const tops = [...new Set(installed.files.map((file) => file.split('/')[0]))].sort();
    expect(tops).toEqual(['LICENSE', 'README.md', 'bin', 'dist', 'package.json', 'templates']);
    // Source maps and TypeScript stay at home; the upstream CRDs the validator reads at run time come along.
    expect(installed.files.filter((file) => /\.(map|ts)$/.test(file))).toEqual([]);
    expect(installed.files).toContain('dist/main.js');
    expect(installed.files).toContain('dist/upstream-schemas/v0.10.46/crds/agents.json');
    expect(installed.files).toContain('templates/instance.yaml');
    // The bundle holds every dependency: nothing else is installed, and npm has nothing to warn about.
    expect(installed.packages).toBe(1);
    expect(installed.installStderr).not.toMatch(/warn/i);
  });

  it('runs --version, dev up, init, apply, enable web-endpoint, chat and dev down', async () => {
    const version = await sympozium(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);

    const up = await sympozium(['dev', 'up']);
    expect(up.code, up.stderr).toBe(0);
    const env = await sympozium(['dev', 'env']);
    const kubeconfig = /KUBECONFIG=("?)([^"\n]+)\1/.exec(env.stdout)?.[2];
    expect(kubeconfig).toBeDefined();
    const cluster = { KUBECONFIG: kubeconfig };

    const init = await sympozium(['init', 'packed', '--provider', 'openai', '--model', 'gpt-4.1', '--api-key-env', 'PACK_TEST_OPENAI_KEY', '--yes', '--out', 'packed.yaml'], cluster);
    expect(init.code, init.stderr).toBe(0);
    expect(readFileSync(path.join(work, 'home', 'packed.yaml'), 'utf8')).toMatch(/^kind: SympoziumInstance$/m);

    const apply = await sympozium(['apply', '-f', 'packed.yaml', '--wait'], cluster);
    expect(apply.code, apply.stderr).toBe(0);
    const enable = await sympozium(['enable', 'web-endpoint', 'packed'], cluster);
    expect(enable.code, enable.stderr).toBe(0);

    const chat = await sympozium(['chat', 'packed', 'Are you installed?', '--json'], cluster);
    expect(chat.code, chat.stderr).toBe(0);
    // dev's offline echo model answers with the task it was given.
    expect(JSON.stringify(JSON.parse(chat.stdout))).toContain('Are you installed?');

    const down = await sympozium(['dev', 'down']);
    expect(down.code, down.stderr).toBe(0);
    expect((await sympozium(['dev', 'status'])).stderr).toMatch(/not running/);
  }, 120_000);
});
