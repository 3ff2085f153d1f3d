// `npm run demo`: the whole flow of a platform engineer, run with the real CLI against the local control plane.
// Each command is printed before it runs. Whatever happens (a failed step, Ctrl-C), the control plane is stopped
// and the temporary directory removed; the exit code is non-zero when any step failed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// `node scripts/demo.mjs --release v0.10.46` runs the same flow against the Agent era (default: v0.5.8).
const releaseAt = process.argv.indexOf('--release');
const release = releaseAt > 0 ? process.argv[releaseAt + 1] : undefined;
if (releaseAt > 0 && !['v0.5.8', 'v0.10.46'].includes(release ?? '')) {
  console.error('usage: node scripts/demo.mjs [--release v0.5.8|v0.10.46]');
  process.exit(2);
}

const bin = fileURLToPath(new URL('../bin/sympozium.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'sympozium-demo-'));
const stateDir = join(work, 'dev');
// The local agent answers with its offline echo model (no baseURL is set), so the provider key only has to exist:
// init reads it from this variable into the Secret, as a user would with their real key.
const env = { ...process.env, SYMPOZIUM_DEV_HOME: stateDir, DEMO_OPENAI_API_KEY: 'sk-demo-offline-not-a-real-key' };
const bold = (text) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${text}\x1b[22m` : text);
const started = Date.now();
let current;
let stopping = false;

function sympozium(args, { capture = false } = {}) {
  console.log(`\n${bold(`$ sympozium ${args.map((arg) => (/[\s"$]/.test(arg) ? JSON.stringify(arg) : arg)).join(' ')}`)}`);
  return new Promise((resolve, reject) => {
    current = spawn(process.execPath, [bin, ...args], { cwd: work, env, stdio: ['inherit', capture ? 'pipe' : 'inherit', 'inherit'] });
    let stdout = '';
    current.stdout?.on('data', (chunk) => {
      stdout += chunk;
      process.stdout.write(chunk);
    });
    current.on('error', reject);
    current.on('close', (code, signal) => {
      current = undefined;
      if (code === 0) resolve(stdout);
      else reject(new Error(`\`sympozium ${args.join(' ')}\` failed (${signal ?? `exit ${code}`})`));
    });
  });
}

async function cleanUp() {
  if (stopping) return;
  stopping = true;
  current?.kill('SIGINT');
  try {
    await sympozium(['dev', 'down']);
  } catch {
    // Already stopped, or never started: nothing to do.
  }
  rmSync(work, { recursive: true, force: true });
}

process.on('SIGINT', () => {
  console.error('\ninterrupted: stopping the local control plane');
  void cleanUp().then(() => process.exit(130));
});

let failed = false;
try {
  await sympozium(['dev', 'up', ...(release ? ['--release', release] : [])]);
  const exportLine = await sympozium(['dev', 'env'], { capture: true });
  const match = /KUBECONFIG=("?)([^"\n]+)\1/.exec(exportLine);
  if (!match) throw new Error('`sympozium dev env` printed no KUBECONFIG');
  env.KUBECONFIG = match[2];

  await sympozium(['init', 'demo', '--provider', 'openai', '--model', 'gpt-4.1', '--skill', 'k8s-ops', '--api-key-env', 'DEMO_OPENAI_API_KEY', '--yes', '--out', 'demo.yaml']);
  // init asks the cluster which kind it serves: an Agent on v0.10.46, a SympoziumInstance on v0.5.8.
  const kind = /^kind: (SympoziumInstance|Agent)$/m.exec(readFileSync(join(work, 'demo.yaml'), 'utf8'))?.[1];
  if (kind !== (release === 'v0.10.46' ? 'Agent' : 'SympoziumInstance')) throw new Error(`init wrote kind ${kind} for release ${release ?? 'v0.5.8'}`);
  await sympozium(['apply', '-f', 'demo.yaml', '--wait']);
  // A task run, as upstream's /run makes one: it needs no policy (init wrote none; upstream has no `default`).
  await sympozium(['run', 'demo', 'Say hello in one sentence.']);
  await sympozium(['enable', 'web-endpoint', 'demo']);
  await sympozium(['key', 'show', 'demo']);
  await sympozium(['chat', 'demo', 'Which pods in the default namespace are failing?', '--stream']);
  await sympozium(['runs', 'list', '--instance', 'demo']);
  await sympozium(['disable', 'web-endpoint', 'demo']);
} catch (error) {
  failed = true;
  console.error(`\ndemo failed: ${error.message}`);
} finally {
  await cleanUp();
}
console.log(`\n${failed ? 'demo FAILED' : 'demo finished'} in ${((Date.now() - started) / 1000).toFixed(1)}s; nothing left behind.`);
process.exit(failed ? 1 : 0);
