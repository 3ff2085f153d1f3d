import { documentSchema, group, sympoziumKinds, version } from './schema.js';

/**
 * The Sympozium CustomResourceDefinitions (apiextensions.k8s.io/v1), generated from the same schema objects that
 * `sympozium validate` checks against, so the local control plane and the validator share one source of truth.
 * All namespaced, with the status subresource; no short names, as upstream.
 */
export function sympoziumCrds(): Record<string, unknown>[] {
  return sympoziumKinds.map((entry) => {
    const crd = entry.crd!;
    return {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: {
        name: `${crd.plural}.${group}`,
        labels: { 'app.kubernetes.io/part-of': 'sympozium' },
      },
      spec: {
        group,
        scope: 'Namespaced',
        names: {
          kind: entry.kind,
          listKind: `${entry.kind}List`,
          plural: crd.plural,
          singular: crd.singular,
          categories: ['sympozium'],
        },
        versions: [
          {
            name: version,
            served: true,
            storage: true,
            schema: { openAPIV3Schema: documentSchema(entry, { forCrd: true }) },
            subresources: { status: {} },
            additionalPrinterColumns: crd.printerColumns.map((column) => ({ ...column })),
          },
        ],
      },
    };
  });
}
