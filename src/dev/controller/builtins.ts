import { upstreamBuiltins, type Release } from '../../sympozium/releases.js';
import { labels, systemNamespace } from '../../sympozium/types.js';
import { releaseProfile } from './release-profile.js';

/**
 * What upstream's Helm chart installs besides the CRDs, for one release: the built-in SkillPacks
 * (templates/default-skills.yaml renders files/skills/*.yaml, which name sympozium-system), the policy presets
 * (templates/default-policies.yaml: no namespace, so the release namespace, sympozium-system, labelled
 * sympozium.ai/builtin=true and the chart's labels), and the controller Deployment.
 */

const chartLabels = (release: Release) => ({
  'helm.sh/chart': `sympozium-${release.slice(1)}`,
  'app.kubernetes.io/name': 'sympozium',
  'app.kubernetes.io/instance': 'sympozium',
  'app.kubernetes.io/managed-by': 'Helm',
  'app.kubernetes.io/part-of': 'sympozium',
});

export function builtinSkillPacks(release: Release): Record<string, unknown>[] {
  return upstreamBuiltins(release).skillPacks.map((pack) => {
    const metadata = (pack.metadata ?? {}) as Record<string, unknown>;
    return { ...pack, metadata: { ...metadata, namespace: systemNamespace } };
  });
}

export function builtinPolicies(release: Release): Record<string, unknown>[] {
  return upstreamBuiltins(release).policies.map((policy) => {
    const metadata = (policy.metadata ?? {}) as { labels?: Record<string, string> };
    return {
      ...policy,
      metadata: { ...metadata, namespace: systemNamespace, labels: { ...metadata.labels, [labels.builtin]: 'true', ...chartLabels(release) } },
    };
  });
}

/** A minimal HTTPRoute CRD, installed only when a gateway base domain is configured. */
export function httpRouteCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'httproutes.gateway.networking.k8s.io' },
    spec: {
      group: 'gateway.networking.k8s.io',
      scope: 'Namespaced',
      names: { kind: 'HTTPRoute', listKind: 'HTTPRouteList', plural: 'httproutes', singular: 'httproute' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Hostnames', type: 'string', jsonPath: '.spec.hostnames' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

/**
 * The controller itself as the chart deploys it (templates/controller-deployment.yaml): Deployment
 * sympozium-controller-manager in sympozium-system, selector control-plane=controller-manager, container
 * `manager` with the release's controller image (what `sympozium version` reads). Here the controller runs inside
 * the local control plane's process; these objects (and a pod) let kubectl and `sympozium doctor` see what they
 * see on a real installation.
 */
export const controllerName = 'sympozium-controller-manager';
const selectorLabels = { 'control-plane': 'controller-manager' };

export function controllerDeployment(release: Release): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: controllerName,
      namespace: systemNamespace,
      labels: { ...chartLabels(release), 'app.kubernetes.io/component': 'controller', ...selectorLabels },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: selectorLabels },
      template: {
        metadata: { labels: selectorLabels, annotations: { 'kubectl.kubernetes.io/default-container': 'manager' } },
        spec: { serviceAccountName: controllerName, containers: [{ name: 'manager', image: releaseProfile(release).controllerImage }] },
      },
    },
  };
}

export function controllerPod(release: Release): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${controllerName}-local-0`, namespace: systemNamespace, labels: selectorLabels },
    spec: { serviceAccountName: controllerName, containers: [{ name: 'manager', image: releaseProfile(release).controllerImage }] },
  };
}
