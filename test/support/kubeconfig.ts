import { writeFileSync } from 'node:fs';

/**
 * The one-context kubeconfig the side-by-side connection tests hand to kubectl and the CLI alike: context c,
 * cluster c at `server`, user u, namespace default. `cluster` and `user` are YAML for the entries' bodies,
 * unindented; `ca` becomes certificate-authority-data.
 */
export function writeKubeconfig(path: string, options: { server: string; ca?: string | Buffer; cluster?: string; user: string; mode?: number }): string {
  const indent = (text: string) => text.split('\n').map((line) => (line ? `    ${line}` : line)).join('\n');
  const cluster = [`server: ${options.server}`, ...(options.ca ? [`certificate-authority-data: ${Buffer.from(options.ca).toString('base64')}`] : []), ...(options.cluster ? [options.cluster] : [])].join('\n');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
current-context: c
clusters:
- name: c
  cluster:
${indent(cluster)}
contexts:
- name: c
  context: {cluster: c, user: u, namespace: default}
users:
- name: u
  user:
${indent(options.user)}
`,
    { mode: options.mode ?? 0o600 },
  );
  return path;
}
