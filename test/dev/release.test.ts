import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hangMarker } from '../../src/dev/index.js';
import { upstreamBuiltins, upstreamCrds } from '../../src/sympozium/releases.js';
import { startPlane, waitFor, type Obj } from './helpers.js';

/**
 * The two releases side by side, through the API only: each installs its own upstream CRDs and built-ins, and the
 * controller differs where upstream's does (internal/controller/sympoziuminstance_controller.go at v0.5.8,
 * agent_controller.go at v0.10.46): the kind it reconciles, the run's reference field, what the server run copies,
 * and the kind a policy failure names.
 */

const api = (ns: string, plural: string, name?: string) => `/apis/sympozium.ai/v1alpha1/namespaces/${ns}/${plural}${name ? `/${name}` : ''}`;
let v05: Awaited<ReturnType<typeof startPlane>>;
let v010: Awaited<ReturnType<typeof startPlane>>;

beforeAll(async () => {
  [v05, v010] = await Promise.all([startPlane(), startPlane({ release: 'v0.10.46' })]);
});
afterAll(async () => {
  await Promise.all([v05?.stop(), v010?.stop()]);
});

const crdNames = (plane: typeof v05) => plane.api.list('/apis/apiextensions.k8s.io/v1/customresourcedefinitions').then((items) => items.map((crd: Obj) => crd.metadata.name).sort());

describe('dev releases', () => {
  test("each installs exactly its release's CRDs, SkillPacks and presets", async () => {
    expect(v05.release).toBe('v0.5.8');
    expect(v010.release).toBe('v0.10.46');
    for (const plane of [v05, v010]) {
      const expected = upstreamCrds(plane.release).map((crd) => (crd.metadata as { name: string }).name).sort();
      expect(await crdNames(plane)).toEqual(expected);
      const packs = await plane.api.list(api('sympozium-system', 'skillpacks'));
      expect(packs.map((pack: Obj) => pack.metadata.name).sort()).toEqual(upstreamBuiltins(plane.release).skillPacks.map((pack) => (pack.metadata as { name: string }).name).sort());
      const web = packs.find((pack: Obj) => pack.metadata.name === 'web-endpoint');
      const shipped = upstreamBuiltins(plane.release).skillPacks.find((pack) => (pack.metadata as { name: string }).name === 'web-endpoint')!;
      expect(web.spec).toEqual(shipped.spec);
      const controller = await plane.api.get('/apis/apps/v1/namespaces/sympozium-system/deployments/sympozium-controller-manager');
      expect(controller.spec.template.spec.containers[0].image).toBe(`ghcr.io/sympozium-ai/sympozium/controller:${plane.release}`);
    }
    expect(await crdNames(v05)).toContain('sympoziuminstances.sympozium.ai');
    expect(await crdNames(v010)).toContain('agents.sympozium.ai');
    expect(await crdNames(v010)).not.toContain('sympoziuminstances.sympozium.ai');
  });

  test('the web-endpoint server run: instanceRef on v0.5.8; agentRef and the default env on v0.10.46', async () => {
    const spec = { agents: { default: { model: 'gpt-4.1', env: { TEAM: 'platform' } } }, skills: [{ skillPackRef: 'web-endpoint' }] };
    await v05.api.create(api('default', 'sympoziuminstances'), { apiVersion: 'sympozium.ai/v1alpha1', kind: 'SympoziumInstance', metadata: { name: 'web' }, spec });
    await v010.api.create(api('default', 'agents'), { apiVersion: 'sympozium.ai/v1alpha1', kind: 'Agent', metadata: { name: 'web' }, spec });
    const [old, current] = await Promise.all(
      [v05, v010].map((plane) => waitFor(() => plane.api.get(api('default', 'agentruns', 'web-web-endpoint')), `${plane.release} server run`)),
    );
    expect(old.spec).toMatchObject({ instanceRef: 'web', agentId: 'web-endpoint', sessionKey: 'web-endpoint', mode: 'server' });
    expect(old.spec.agentRef).toBeUndefined();
    expect(old.spec.env).toBeUndefined();
    expect(current.spec).toMatchObject({ agentRef: 'web', agentId: 'web-endpoint', sessionKey: 'web-endpoint', mode: 'server', env: { TEAM: 'platform' } });
    expect(current.spec.instanceRef).toBeUndefined();
    expect(current.metadata.ownerReferences[0]).toMatchObject({ kind: 'Agent', name: 'web' });
    for (const plane of [v05, v010]) {
      await waitFor(async () => (await plane.api.get(api('default', plane === v05 ? 'sympoziuminstances' : 'agents', 'web')))?.status?.phase === 'Serving', `${plane.release} Serving`);
    }
  });

  test("the server run's Deployment, Service and pod are shaped as reconcilePendingServer makes them, in both releases", async () => {
    for (const plane of [v05, v010]) {
      const deployment = await waitFor(() => plane.api.get('/apis/apps/v1/namespaces/default/deployments/web-web-endpoint-server'), `${plane.release} Deployment`);
      const service = await plane.api.get('/api/v1/namespaces/default/services/web-web-endpoint-server');
      const wanted = {
        'sympozium.ai/agent-run': 'web-web-endpoint',
        'sympozium.ai/instance': 'web',
        'sympozium.ai/component': 'agent-server',
        'app.kubernetes.io/part-of': 'sympozium',
        'app.kubernetes.io/managed-by': 'sympozium-controller',
      };
      expect(deployment.metadata.labels).toEqual(wanted);
      expect(deployment.spec.selector.matchLabels).toEqual(wanted);
      expect(service.spec.selector).toEqual(wanted);
      const podSpec = deployment.spec.template.spec;
      expect(podSpec.serviceAccountName).toBe('sympozium-agent');
      expect(podSpec.containers.map((container: Obj) => container.name)).toEqual(['web-proxy']);
      const proxy = podSpec.containers[0];
      expect(proxy.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 8080 });
      // The sidecar's own env comes from the release's web-endpoint SkillPack, then the controller's.
      const pack = upstreamBuiltins(plane.release).skillPacks.find((item) => (item.metadata as { name: string }).name === 'web-endpoint') as Obj;
      const sidecarEnv = (pack.spec.sidecar.env ?? []).map((entry: Obj) => entry.name);
      // Then the skill's params: RATE_LIMIT_* for the rate limit, SKILL_<PARAM> for each (sorted here; Go's map order is random).
      const run = await plane.api.get(api('default', 'agentruns', 'web-web-endpoint'));
      const params: Record<string, string> = run.spec.skills.find((skill: Obj) => skill.skillPackRef === 'web-endpoint').params ?? {};
      const fromParams = [
        ...(['rate_limit_rpm', 'rate_limit_burst'] as const).filter((param) => param in params).map((param) => param.toUpperCase()),
        ...Object.keys(params).sort().map((param) => `SKILL_${param.toUpperCase()}`),
      ];
      expect(proxy.env.map((entry: Obj) => entry.name)).toEqual([...sidecarEnv, 'INSTANCE_NAME', 'WEB_PROXY_API_KEY', ...fromParams]);
      expect(proxy.env.find((entry: Obj) => entry.name === 'WEB_PROXY_API_KEY').valueFrom.secretKeyRef).toEqual({ name: 'web-web-proxy-key', key: 'api-key' });
      const pods = await waitFor(async () => {
        const items = await plane.api.list('/api/v1/namespaces/default/pods', 'sympozium.ai/agent-run=web-web-endpoint');
        return items.length > 0 ? items : undefined;
      }, `${plane.release} server pod`);
      expect(pods[0].spec.containers.map((container: Obj) => container.name)).toEqual(['web-proxy']);
      expect(pods[0].metadata.labels).toEqual(wanted);
    }
  });

  test("v0.10's web proxy reuses the unfinished run of an identical request and passes the Agent's env on; v0.5.8's does not", async () => {
    const aborts: AbortController[] = [];
    // Streaming sends the headers at once; a [hang] task keeps the run unfinished. Upstream names the run only
    // in the chunks' id, so the newest web run of the plane is the one a request created or reused.
    const newestRun = async (plane: typeof v05) => {
      const runs = (await plane.api.list(api('default', 'agentruns'), 'sympozium.ai/source=web-proxy')).filter((run: Obj) => run.spec.task === `${hangMarker} same question`);
      return { count: runs.length, name: runs.sort((a: Obj, b: Obj) => b.metadata.name.localeCompare(a.metadata.name))[0]?.metadata.name as string | undefined };
    };
    const ask = async (plane: typeof v05) => {
      const before = (await newestRun(plane)).count;
      const key = await plane.api.apiKey('web');
      const abort = new AbortController();
      aborts.push(abort);
      const response = await fetch(`http://127.0.0.1:${plane.proxyPort('default', 'web')}/v1/chat/completions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4.1', stream: true, messages: [{ role: 'user', content: `${hangMarker} same question` }] }),
        signal: abort.signal,
      });
      expect(response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const after = await newestRun(plane);
      return { created: after.count > before, count: after.count };
    };
    try {
      expect(await ask(v010)).toEqual({ created: true, count: 1 });
      // The proxy's cache must hold it before the duplicate arrives, as upstream's informer cache must.
      expect(await ask(v010)).toEqual({ created: false, count: 1 });
      const first = (await newestRun(v010)).name!;
      const run = await v010.api.get(api('default', 'agentruns', first));
      expect(run.metadata.labels['sympozium.ai/request-hash']).toMatch(/^[0-9a-f]{16}$/);
      expect(run.spec).toMatchObject({ agentRef: 'web', env: { TEAM: 'platform' } });

      expect(await ask(v05)).toEqual({ created: true, count: 1 });
      expect(await ask(v05)).toEqual({ created: true, count: 2 });
      const oldRun = await v05.api.get(api('default', 'agentruns', (await newestRun(v05)).name!));
      expect(oldRun.metadata.labels['sympozium.ai/request-hash']).toBeUndefined();
      expect(oldRun.spec.env).toBeUndefined();
    } finally {
      for (const abort of aborts) abort.abort();
    }
  });

  test('a run of a missing Agent fails naming agents.sympozium.ai, as v0.10 validatePolicy does', async () => {
    await v010.api.create(api('default', 'agentruns'), {
      apiVersion: 'sympozium.ai/v1alpha1',
      kind: 'AgentRun',
      metadata: { name: 'orphan' },
      spec: { agentRef: 'ghost', agentId: 'primary', sessionKey: 's', task: 'hi', model: { provider: 'openai', model: 'gpt-4.1', authSecretRef: '' } },
    });
    const failed = await waitFor(async () => {
      const run = await v010.api.get(api('default', 'agentruns', 'orphan'));
      return run?.status?.phase === 'Failed' ? run : undefined;
    }, 'orphan Failed');
    expect(failed.status.error).toBe('policy validation failed: instance "ghost" not found: agents.sympozium.ai "ghost" not found');
  });

  test("the proxy checks the key before the rate limit on v0.5.8 and after it on v0.10.46 (internal/webproxy/proxy.go)", async () => {
    const params = { rate_limit_rpm: '1', rate_limit_burst: '1' };
    const spec = { agents: { default: { model: 'gpt-4.1' } }, skills: [{ skillPackRef: 'web-endpoint', params }] };
    await v05.api.create(api('default', 'sympoziuminstances'), { apiVersion: 'sympozium.ai/v1alpha1', kind: 'SympoziumInstance', metadata: { name: 'order' }, spec });
    await v010.api.create(api('default', 'agents'), { apiVersion: 'sympozium.ai/v1alpha1', kind: 'Agent', metadata: { name: 'order' }, spec });
    const statuses: Record<string, number[]> = {};
    for (const [label, plane, plural] of [['v0.5.8', v05, 'sympoziuminstances'], ['v0.10.46', v010, 'agents']] as const) {
      await waitFor(async () => (await plane.api.get(api('default', plural, 'order')))?.status?.phase === 'Serving', `order Serving on ${label}`);
      const base = `http://127.0.0.1:${plane.proxyPort('default', 'order')}`;
      const key = await plane.api.apiKey('order');
      const ask = (token: string) => fetch(`${base}/v1/models`, { headers: { Authorization: `Bearer ${token}` } }).then((response) => response.status);
      statuses[label] = [await ask('sk-wrong'), await ask('sk-wrong'), await ask(key)];
    }
    // v0.5.8: refused keys never reach the limiter, so the one token is still there for the right key.
    expect(statuses['v0.5.8']).toEqual([401, 401, 200]);
    // v0.10.46: the first wrong key spends the token; everything after is rate limited.
    expect(statuses['v0.10.46']).toEqual([401, 429, 429]);
  });
});
