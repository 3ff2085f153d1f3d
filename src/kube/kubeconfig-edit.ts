import { existsSync, readFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument, type Document } from 'yaml';
import { CliError } from '../errors.js';
import { resolveWriteTarget, writeFileAtomic } from '../files/atomic-write.js';

/**
 * Edits a user's kubeconfig in place: one named cluster, user and context added, refreshed or removed. The YAML
 * document is edited rather than rewritten so that other entries and comments survive, and the file is replaced
 * atomically with mode 0600 because it holds credentials.
 */

const sections = [
  ['clusters', 'cluster'],
  ['users', 'user'],
  ['contexts', 'context'],
] as const;

function loadKubeconfigDocument(path: string): Document {
  // Checked before reading: reading a FIFO would block, and the file is rewritten below.
  resolveWriteTarget(path);
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const doc = parseDocument(text.trim() ? text : 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
  if (doc.errors.length > 0) throw new CliError(`cannot parse ${path}: ${doc.errors[0]!.message}`, { hint: 'Fix the file, or pass another one with --kubeconfig.' });
  return doc;
}

/**
 * Adds (or refreshes) the first cluster, user and context of `sourceKubeconfig` under `name` in the kubeconfig at
 * `path`. The current context is changed only when there is none.
 */
export async function mergeContext(path: string, sourceKubeconfig: string, name: string): Promise<void> {
  const doc = loadKubeconfigDocument(path);
  const source = parseDocument(sourceKubeconfig).toJS() as Record<string, { name: string }[]>;
  for (const [list, field] of sections) {
    const entry = source[list]?.[0] as Record<string, unknown> | undefined;
    if (!entry) continue;
    const named = { name, [field]: field === 'context' ? { ...(entry.context as object), cluster: name, user: name } : entry[field] };
    let seq = doc.get(list);
    if (!isSeq(seq)) {
      doc.set(list, doc.createNode([]));
      seq = doc.get(list);
    }
    if (!isSeq(seq)) continue;
    const index = seq.items.findIndex((item) => isMap(item) && item.get('name') === name);
    const node = doc.createNode(named);
    if (index >= 0) seq.items[index] = node;
    else seq.items.push(node);
  }
  if (!doc.get('current-context')) doc.set('current-context', name);
  writeFileAtomic(path, doc.toString(), { mode: 0o600, overwrite: true, secret: true });
}

/** Removes the entries called `name`; returns whether there were any. */
export async function removeContext(path: string, name: string): Promise<boolean> {
  const doc = loadKubeconfigDocument(path);
  let removed = false;
  for (const [list] of sections) {
    const seq = doc.get(list);
    if (!isSeq(seq)) continue;
    const before = seq.items.length;
    seq.items = seq.items.filter((item) => !(isMap(item) && item.get('name') === name));
    removed ||= seq.items.length !== before;
  }
  if (doc.get('current-context') === name) doc.set('current-context', '');
  if (removed) writeFileAtomic(path, doc.toString(), { mode: 0o600, overwrite: true, secret: true });
  return removed;
}

/**
 * Writes refreshed auth-provider settings (an OIDC id-token and refresh-token) back into the user's entry of the
 * file it came from, as kubectl's persister does, leaving the rest of the file as it was.
 */
export async function persistAuthProviderConfig(path: string, userName: string, updates: Record<string, string>): Promise<void> {
  const doc = loadKubeconfigDocument(path);
  const users = doc.get('users');
  if (!isSeq(users)) return;
  const entry = users.items.find((item) => isMap(item) && item.get('name') === userName);
  if (!isMap(entry)) return;
  for (const [key, value] of Object.entries(updates)) entry.setIn(['user', 'auth-provider', 'config', key], value);
  // No folding: a token is one long word, and a folded one is hard to read or grep.
  writeFileAtomic(path, doc.toString({ lineWidth: 0 }), { mode: 0o600, overwrite: true, secret: true });
}
