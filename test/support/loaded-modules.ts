import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { binPath, repoRoot } from './bin.js';

/**
 * The module files Node loads for one run of the built CLI, recorded through a resolve hook (as foundation.test.ts
 * does for start-up): for checking that a module (a chunk of dist/) loads only when a kubeconfig needs it.
 * Asynchronous, so a test server in the test's own process keeps answering meanwhile.
 */
const hook = `data:text/javascript,${encodeURIComponent(`
  import { register } from 'node:module';
  import { MessageChannel } from 'node:worker_threads';
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => process.stderr.write('LOADED ' + url + '\\n'));
  port1.unref();
  register('data:text/javascript,' + encodeURIComponent(\`
    let port;
    export function initialize(data) { port = data.port; }
    export async function resolve(specifier, context, next) {
      const result = await next(specifier, context);
      port.postMessage(result.url);
      return result;
    }\`), { data: { port: port2 }, transferList: [port2] });
`)}`;

export function loadedModules(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', hook, binPath, ...args], { cwd: repoRoot, env: { ...process.env, CI: '1', NO_COLOR: '1', ...env } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    child.stdin.end();
    child.on('error', reject);
    child.on('close', () =>
      resolve(
        stderr
          .split('\n')
          .filter((line) => line.startsWith('LOADED file:'))
          .map((line) => fileURLToPath(line.slice('LOADED '.length))),
      ),
    );
  });
}
