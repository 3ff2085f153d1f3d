// `key show --reveal` with an exec-plugin kubeconfig against the same with a static token (issue 14): what an exec
// plugin costs the CLI beyond the plugin's own run. The plugin is a /bin/sh script printing an ExecCredential with
// the same token, so its own time is small and measured on its own; the target is that the CLI adds within 20 ms
// of the token case beyond it (spawning it, the exec module, the KUBERNETES_EXEC_INFO it is given).
// Called by run.mjs (`npm run bench -- --only exec`); not a test: it asserts nothing.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';

export async function benchExec({ work, kubeconfig, env, pair, labelled, cli, run }) {
  const config = load(readFileSync(kubeconfig, 'utf8'));
  const user = config.users[0].user;
  const token = user.token;
  const plugin = join(work, 'exec-plugin.sh');
  writeFileSync(plugin, `#!/bin/sh\nprintf '%s' '${JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1', status: { token } })}'\n`);
  chmodSync(plugin, 0o755);
  delete user.token;
  delete user.tokenFile;
  user.exec = { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' };
  const execKubeconfig = join(work, 'kubeconfig-exec');
  writeFileSync(execKubeconfig, dump(config), { mode: 0o600 });

  const row = await pair(
    'key show, exec plugin',
    '+ plugin + <= 20 ms',
    labelled('key show --reveal, exec plugin kubeconfig', () => cli('key', 'show', 'demo', '--reveal', { env: { ...env, KUBECONFIG: execKubeconfig } })),
    labelled('key show --reveal, token kubeconfig', () => cli('key', 'show', 'demo', '--reveal')),
  );
  const own = await pair(
    'exec plugin on its own',
    '(reference)',
    labelled('the plugin script, run directly', () => run(plugin, [])),
    labelled('/bin/true', () => run('/bin/true', [])),
  );
  const addedMs = row.medianA - row.medianB - own.medianA;
  console.log(`  the CLI adds ${addedMs.toFixed(1)} ms for an exec plugin beyond the plugin's own ${own.medianA.toFixed(1)} ms (target <= 20 ms)`);
  return { execOverTokenMs: row.medianA - row.medianB, pluginMs: own.medianA, addedBeyondPluginMs: addedMs };
}
