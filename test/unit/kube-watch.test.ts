import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../src/kube/client.js';
import { watchObjects, type WatchUpdate } from '../../src/kube/watch.js';
import { startApiServer, type ApiServer } from '@sympozium/kube-emulator';

/**
 * watchObjects against the API emulator (real HTTP), with the emulator's faults: the generator is lazy, so
 * the test can change the cluster while the consumer is not reading and see what it is told afterwards.
 */

let server: ApiServer;
let kube: KubeClient;
const path = '/api/v1/namespaces/default/configmaps';
const configMap = (name: string, value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { value } });
type Cm = { metadata: { name: string; resourceVersion?: string }; data?: { value?: string } };
const describeUpdate = (update: WatchUpdate<Cm>) =>
  update.type === 'LISTED'
    ? `LISTED(${update.items.map((item) => item.metadata.name).sort().join(',')})${update.relist ? ' relist' : ''}`
    : `${update.type} ${update.object.metadata.name}${update.object.data?.value ? `=${update.object.data.value}` : ''}${update.synthetic ? ' (synthetic)' : ''}`;

beforeAll(async () => {
  server = await startApiServer();
  kube = new KubeClient(
    { files: [], contextName: 'test', clusterName: 'test', userName: 'test', server: server.httpsUrl, namespace: 'default', namespaceFromContext: false, insecureSkipTlsVerify: true, token: server.token, inCluster: false },
    {},
  );
});

afterAll(async () => {
  kube?.close();
  await server?.close();
});

describe('watchObjects', () => {
  it('after a dropped watch and a 410, the consumer learns exactly what changed while it was away', async () => {
    await kube.create(path, configMap('a', '1'));
    await kube.create(path, configMap('b', '1'));
    server.faults.add({ path, watch: true, dropWatchAfterEvents: 1 });
    server.faults.add({ path, watch: true, expireWatch: true });
    const abort = new AbortController();
    const updates = watchObjects<Cm>(kube, path, { signal: abort.signal, retryDelayMs: 10 })[Symbol.asyncIterator]();
    const seen: string[] = [];
    const take = async () => seen.push(describeUpdate((await updates.next()).value as WatchUpdate<Cm>));

    await take(); // the initial list
    await kube.create(path, configMap('c', '1'));
    await take(); // ADDED c; that watch is then cut
    // While the consumer is not reading: a deletion, a change and a creation; the next watch expires (410).
    await kube.delete(`${path}/a`);
    await kube.mergePatch(`${path}/b`, { data: { value: '2' } });
    await kube.create(path, configMap('d', '1'));
    for (let i = 0; i < 4; i += 1) await take();
    // Live again after the relist: one more change arrives once.
    await kube.mergePatch(`${path}/c`, { data: { value: '3' } });
    await take();
    abort.abort();

    expect(seen).toEqual([
      'LISTED(a,b)',
      'ADDED c=1',
      'MODIFIED b=2 (synthetic)',
      'ADDED d=1 (synthetic)',
      'DELETED a=1 (synthetic)',
      'LISTED(b,c,d) relist',
      'MODIFIED c=3',
    ]);
    expect(server.faults.rules).toHaveLength(0);
  });

  it('resuming after a dropped connection replays nothing the consumer already saw', async () => {
    const resumes: string[] = [];
    const abort = new AbortController();
    server.faults.add({ path, watch: true, dropWatchAfterEvents: 1, times: 3 });
    const seen: string[] = [];
    const consumer = (async () => {
      for await (const update of watchObjects<Cm>(kube, path, { signal: abort.signal, labelSelector: 'batch=r', onResume: (rv) => resumes.push(rv) })) {
        if (update.type !== 'LISTED') seen.push(describeUpdate(update));
        if (seen.length === 4) abort.abort();
      }
    })();
    for (const [name, value] of [['r1', '1'], ['r2', '1'], ['r1', '2'], ['r2', '2']] as const) {
      if (value === '1') await kube.create(path, { ...configMap(name, value), metadata: { name, labels: { batch: 'r' } } });
      else await kube.mergePatch(`${path}/${name}`, { data: { value } });
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await consumer;
    expect(seen).toEqual(['ADDED r1=1', 'ADDED r2=1', 'MODIFIED r1=2', 'MODIFIED r2=2']);
    expect(resumes.length).toBeGreaterThanOrEqual(3);
  });
});
