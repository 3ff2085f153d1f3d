import { describe, expect, it } from 'vitest';
import { renderJsonPath } from '../../src/ui/jsonpath.js';
import { renderCustomColumns } from '../../src/ui/objects.js';

/**
 * kubectl's JSONPath on objects the e2e suite does not hold (numbers, HTML characters, filters by number).
 * Every expected value here is what kubectl 1.32 printed for the same object against `sympozium dev`
 * (`kubectl get cm jp -o jsonpath=...`, `kubectl get deploy -o jsonpath=...`).
 */

const configMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'jp', labels: { b: '2', a: '1' }, managedFields: [{ manager: 'kubectl-client-side-apply' }] },
  data: { html: 'x<y&z>', num: '10' },
};

const deployments = {
  apiVersion: 'v1',
  kind: 'List',
  items: [
    { metadata: { name: 'a' }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'x', image: 'x' }] } } } },
    { metadata: { name: 'b' }, spec: { replicas: 3, template: { spec: { containers: [{ name: 'y', image: 'y' }] } } } },
  ],
};

describe('renderJsonPath', () => {
  it.each([
    ['{.data}', '{"html":"x\\u003cy\\u0026z\\u003e","num":"10"}'],
    ['{.metadata.labels}', '{"a":"1","b":"2"}'],
    ['{.data.html}', 'x<y&z>'],
    ['{.metadata.labels.*}', '1 2'],
    ['{range .metadata.labels.*}[{@}]{end}', '[1][2]'],
  ])('a ConfigMap: %s', (template, expected) => {
    expect(renderJsonPath(template, configMap)).toBe(expected);
  });

  it.each([
    ['{.items[?(@.spec.replicas>1)].metadata.name}', 'b'],
    ['{.items[?(@.spec.replicas<=1)].metadata.name}', 'a'],
    ['{.items[?(@.spec.replicas!=3)].spec.replicas}', '1'],
    ['{.items[*].spec.template.spec.containers[0].image}', 'x y'],
    ['{.items[0:2:1].metadata.name}', 'a b'],
    ['{.items[1,0].metadata.name}', 'b a'],
    ["{.items[?(@.metadata.name=='b')].spec.replicas}", '3'],
    ['{.items[*].spec.paused}', ''],
    ['{.items[?(@.spec.paused)].metadata.name}', ''],
    ['{.items[*].spec.replicas}', '1 3'],
  ])('Deployments: %s', (template, expected) => {
    expect(renderJsonPath(template, deployments)).toBe(expected);
  });

  it('refuses what kubectl cannot parse', () => {
    expect(() => renderJsonPath('{.items[*]', deployments)).toThrow('unclosed action');
    expect(() => renderJsonPath('{end}', deployments)).toThrow('not in range');
    expect(() => renderJsonPath('{.items[x]}', deployments)).toThrow('invalid array index');
  });
});

describe('renderCustomColumns', () => {
  it('prints maps as Go does and pads columns as kubectl tabwriter', () => {
    // kubectl get cm jp -o custom-columns='L:.metadata.labels,D:.data.html,M:.metadata.managedFields[*].manager'
    expect(renderCustomColumns('L:.metadata.labels,D:.data.html,M:.metadata.managedFields[*].manager', [configMap], true)).toBe(
      'L              D        M\nmap[a:1 b:2]   x<y&z>   kubectl-client-side-apply',
    );
  });
});
