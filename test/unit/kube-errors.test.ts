import { describe, expect, it } from 'vitest';
import { KubeApiError, permissionFor } from '../../src/kube/errors.js';

describe('permissionFor: the RBAC a request needs, for 403 messages', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/secrets/demo-web-endpoint-key', { verb: 'get', resource: 'secrets', namespace: 'default' }],
    ['GET', '/apis/sympozium.ai/v1alpha1/namespaces/ns1/agentruns', { verb: 'list', resource: 'agentruns.sympozium.ai', namespace: 'ns1' }],
    ['GET', '/apis/sympozium.ai/v1alpha1/namespaces/ns1/agentruns?watch=true', { verb: 'watch', resource: 'agentruns.sympozium.ai', namespace: 'ns1' }],
    ['PATCH', '/apis/apps/v1/namespaces/default/deployments/x', { verb: 'patch', resource: 'deployments.apps', namespace: 'default' }],
    ['POST', '/api/v1/namespaces/default/pods/p/portforward', { verb: 'create', resource: 'pods/portforward', namespace: 'default' }],
    ['DELETE', '/apis/sympozium.ai/v1alpha1/namespaces/default/sympoziuminstances/demo', { verb: 'delete', resource: 'sympoziuminstances.sympozium.ai', namespace: 'default' }],
    ['GET', '/api/v1/namespaces', { verb: 'list', resource: 'namespaces', namespace: undefined }],
    ['GET', '/apis/sympozium.ai/v1alpha1/sympoziuminstances', { verb: 'list', resource: 'sympoziuminstances.sympozium.ai', namespace: undefined }],
  ])('%s %s', (method, path, expected) => {
    expect(permissionFor(method, path)).toEqual(expected);
  });
});

describe('KubeApiError.fromResponse', () => {
  it('a 403 without a server message still names the permission and the can-i check', () => {
    const error = KubeApiError.fromResponse(403, '{"kind":"Status","code":403,"reason":"Forbidden"}', 'ctx', 'PATCH', '/apis/apps/v1/namespaces/team/deployments/web');
    expect(error.message).toBe('forbidden: cannot patch deployments.apps in namespace team');
    expect(error.hint).toContain('kubectl auth can-i patch deployments.apps -n team');
    expect(error.exitCode).toBe(1);
  });

  it("a 403 with the server's message keeps it (users search for it)", () => {
    const message = 'secrets "k" is forbidden: User "dev" cannot get resource "secrets" in API group "" in the namespace "default"';
    const error = KubeApiError.fromResponse(403, JSON.stringify({ code: 403, reason: 'Forbidden', message }), 'ctx', 'GET', '/api/v1/namespaces/default/secrets/k');
    expect(error.message).toBe(message);
    expect(error.hint).toContain('allow "get" on secrets in namespace default');
  });

  it('a 404 for an unserved API points at the CRDs and doctor', () => {
    const error = KubeApiError.fromResponse(404, JSON.stringify({ code: 404, reason: 'NotFound', message: 'the server could not find the requested resource' }), 'ctx', 'GET', '/apis/sympozium.ai/v1alpha1/namespaces/d/agentruns');
    expect(error.hint).toContain('sympozium doctor');
  });

  it('a 400 on a read does not blame a manifest', () => {
    expect(KubeApiError.fromResponse(400, '', 'ctx', 'DELETE', '/x').hint).not.toContain('manifest');
    expect(KubeApiError.fromResponse(400, '', 'ctx', 'PATCH', '/x').hint).toContain('sympozium validate');
  });
});
