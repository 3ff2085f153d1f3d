import { describe, expect, test } from 'vitest';
import { sympoziumCrds } from '../../src/sympozium/crds.js';
import type { Schema } from '../../src/sympozium/schema.js';

/**
 * The CRDs must be structural (the API server rejects them otherwise): every node has a type unless it is
 * int-or-string or preserves unknown fields, properties and additionalProperties never meet, required names
 * exist, and metadata is no more than `type: object`.
 */
function structuralProblems(schema: Schema, path: string, problems: string[]): string[] {
  if (!schema.type && !schema['x-kubernetes-int-or-string'] && !schema['x-kubernetes-preserve-unknown-fields']) {
    problems.push(`${path}: no type`);
  }
  if (schema.properties && schema.additionalProperties) problems.push(`${path}: properties and additionalProperties`);
  for (const name of schema.required ?? []) {
    if (!schema.properties?.[name]) problems.push(`${path}: required ${name} is not a property`);
  }
  if (schema.anyOf && !schema['x-kubernetes-int-or-string']) problems.push(`${path}: anyOf outside int-or-string`);
  if (schema.type === 'array' && !schema.items) problems.push(`${path}: array without items`);
  if (path !== '' && path !== '.metadata' && schema.type && !schema.description && !path.endsWith('[]') && !path.endsWith('{}')) {
    problems.push(`${path}: no description (kubectl explain shows it)`);
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) structuralProblems(child, `${path}.${name}`, problems);
  if (schema.items) structuralProblems(schema.items, `${path}[]`, problems);
  if (schema.additionalProperties) structuralProblems(schema.additionalProperties, `${path}{}`, problems);
  return problems;
}

describe('sympoziumCrds', () => {
  const crds = sympoziumCrds() as any[];

  test('installs the four Sympozium kinds, namespaced, with a status subresource and no short names', () => {
    expect(crds.map((crd) => crd.metadata.name)).toEqual([
      'sympoziuminstances.sympozium.ai',
      'agentruns.sympozium.ai',
      'skillpacks.sympozium.ai',
      'sympoziumpolicies.sympozium.ai',
    ]);
    for (const crd of crds) {
      expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
      expect(crd.spec.scope).toBe('Namespaced');
      expect(crd.spec.names.shortNames).toBeUndefined();
      expect(crd.spec.versions).toHaveLength(1);
      expect(crd.spec.versions[0]).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    }
  });

  test('every schema is structural and documented', () => {
    for (const crd of crds) {
      const schema = crd.spec.versions[0].schema.openAPIV3Schema as Schema;
      expect(structuralProblems(schema, '', []), crd.metadata.name).toEqual([]);
      expect(schema.properties!.metadata).toEqual({ type: 'object' });
    }
  });

  test('keeps upstream printer columns for SympoziumInstance', () => {
    const columns = crds[0].spec.versions[0].additionalPrinterColumns.filter((column: any) => !column.priority);
    expect(columns.map((column: any) => [column.name, column.jsonPath])).toEqual([
      ['Phase', '.status.phase'],
      ['Active Agents', '.status.activeAgentPods'],
      ['Total Runs', '.status.totalAgentRuns'],
      ['Age', '.metadata.creationTimestamp'],
    ]);
  });

  test('preserves unknown fields only for core/v1 volumes: params and maps are typed string maps', () => {
    const open: string[] = [];
    const walk = (schema: Schema, path: string) => {
      if (schema['x-kubernetes-preserve-unknown-fields']) open.push(path);
      for (const [name, child] of Object.entries(schema.properties ?? {})) walk(child, `${path}.${name}`);
      if (schema.items) walk(schema.items, `${path}[]`);
      if (schema.additionalProperties) walk(schema.additionalProperties, `${path}{}`);
    };
    for (const crd of crds) walk(crd.spec.versions[0].schema.openAPIV3Schema, crd.spec.names.kind);
    expect(open).toEqual(['SkillPack.spec.sidecar.volumes[]', 'SkillPack.spec.sidecar.volumeMounts[]']);
    const skills = crds[0].spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.skills;
    expect(skills.items.properties.params.additionalProperties).toEqual({ type: 'string' });
  });

  test('status accepts what the controller writes', () => {
    const runStatus = crds[1].spec.versions[0].schema.openAPIV3Schema.properties.status.properties;
    expect(Object.keys(runStatus.tokenUsage.properties)).toEqual(['inputTokens', 'outputTokens', 'totalTokens', 'toolCalls', 'durationMs']);
    const instanceStatus = crds[0].spec.versions[0].schema.openAPIV3Schema.properties.status.properties;
    expect(Object.keys(instanceStatus.webEndpoint.properties)).toEqual(['status', 'url', 'authSecretName']);
    expect(instanceStatus.conditions.items.required).toEqual(['type', 'status']);
  });

  test('returns fresh objects each call', () => {
    const first = sympoziumCrds() as any[];
    first[0].spec.versions[0].schema.openAPIV3Schema.properties.spec.required = ['nothing'];
    expect((sympoziumCrds() as any[])[0].spec.versions[0].schema.openAPIV3Schema.properties.spec.required).toEqual(['agents']);
  });
});
