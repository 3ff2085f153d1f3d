import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { instanceManifest, paths, servingInstance, startPlane, waitFor, type Obj } from './helpers.js';

/** The web endpoint's variants: a gateway (HTTPRoute and URL), the user's own key Secret, the legacy field, restarts. */

let plane: Awaited<ReturnType<typeof startPlane>>;
beforeAll(async () => {
  plane = await startPlane({ gatewayBaseDomain: 'agents.example.test' });
});
afterAll(async () => {
  await plane?.stop();
});

const instanceOf = (name: string) => plane.api.get(paths.instances('default', name));
const routePath = (name: string) => `/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/${name}`;

describe('web endpoint variants', () => {
  test('with a gateway base domain: an HTTPRoute <run>-web, and the URL in status; the hostname param wins', async () => {
    await servingInstance(plane, 'routed');
    const route = await plane.api.get(routePath('routed-web-endpoint-web'));
    expect(route.spec.hostnames).toEqual(['routed.agents.example.test']);
    expect(route.spec.rules[0].backendRefs[0]).toMatchObject({ name: 'routed-web-endpoint-server', port: 8080 });
    // Upstream never writes status.webEndpoint: the HTTPRoute is where the URL is.
    expect((await instanceOf('routed')).status.webEndpoint).toBeUndefined();

    await plane.api.patch(paths.instances('default', 'routed'), { spec: { skills: [{ skillPackRef: 'web-endpoint', params: { hostname: 'chat.example.test' } }] } });
    await waitFor(async () => (await plane.api.get(routePath('routed-web-endpoint-web')))?.spec?.hostnames?.[0] === 'chat.example.test', 'hostname param in the HTTPRoute');

    await plane.api.patch(paths.instances('default', 'routed'), { spec: { skills: [] } });
    await waitFor(async () => !(await plane.api.get(routePath('routed-web-endpoint-web'))), 'HTTPRoute removed with the skill');
  });

  test("auth_secret_ref: the user's Secret is the key (missing: no Error, as upstream), and it is never deleted", async () => {
    await plane.api.create(
      paths.instances(),
      instanceManifest('own-key', { skills: [{ skillPackRef: 'skillpack-web-endpoint', params: { auth_secret_ref: 'my-key' } }] }),
    );
    const reconciled = await waitFor(async () => {
      const instance = await instanceOf('own-key');
      return instance?.status?.phase ? instance : undefined;
    }, 'own-key reconciled');
    expect(reconciled.status.phase).not.toBe('Error');
    expect(reconciled.status.conditions).toBeUndefined();

    await plane.api.create(paths.secrets(), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'my-key' }, stringData: { 'api-key': 'sk-mine' } });
    await waitFor(async () => (await instanceOf('own-key'))?.status?.phase === 'Serving', 'own-key Serving');
    expect(await plane.api.get(paths.secrets('default', 'own-key-web-endpoint-key'))).toBeUndefined();
    const port = plane.proxyPort('default', 'own-key');
    const models = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { Authorization: 'Bearer sk-mine' } });
    expect(models.status).toBe(200);

    await plane.api.delete(paths.instances('default', 'own-key'));
    await waitFor(async () => !(await instanceOf('own-key')), 'own-key deleted');
    expect(await plane.api.get(paths.secrets('default', 'my-key'))).toBeDefined();
  });

  test('the deprecated spec.webEndpoint.enabled works too, with its rate limit', async () => {
    await plane.api.create(paths.instances(), instanceManifest('legacy', { webEndpoint: { enabled: true, rateLimit: { requestsPerMinute: 30, burstSize: 3 } } }));
    await waitFor(async () => (await instanceOf('legacy'))?.status?.phase === 'Serving', 'legacy Serving');
    const run = await plane.api.get(paths.runs('default', 'legacy-web-endpoint'));
    expect(run.spec.skills[0].params).toMatchObject({ rate_limit_rpm: '30', rate_limit_burst: '3' });
  });

  test('a restarted Deployment (rollout restart) or a deleted pod gets a new Running pod', async () => {
    await servingInstance(plane, 'restarts');
    const deploymentPath = paths.deployments('default', 'restarts-web-endpoint-server');
    const podNames = async () => (await plane.api.list(paths.pods(), 'sympozium.ai/instance=restarts,sympozium.ai/component=agent-server')).map((pod: Obj) => pod.metadata.name);
    const [first] = await podNames();

    await plane.api.patch(deploymentPath, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } });
    const rolled = await waitFor(async () => {
      const deployment = await plane.api.get(deploymentPath);
      const names = await podNames();
      const done = deployment.status.observedGeneration === deployment.metadata.generation && deployment.status.readyReplicas === 1 && names.length === 1 && names[0] !== first;
      return done ? names[0] : undefined;
    }, 'rollout restart done');

    await plane.api.delete(`/api/v1/namespaces/default/pods/${rolled}`);
    await waitFor(async () => {
      const names = await podNames();
      return names.length === 1 && names[0] !== rolled;
    }, 'pod replaced');
    await waitFor(async () => (await instanceOf('restarts'))?.status?.phase === 'Serving', 'restarts Serving again');
  });
});
