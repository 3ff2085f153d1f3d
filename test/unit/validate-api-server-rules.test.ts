import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../src/sympozium/manifests.js';
import { formatProblem, validateDocuments } from '../../src/sympozium/validate.js';

/**
 * What the API server does before and around schema validation, found by test/upstream/mutations.test.ts where
 * the validator and the server disagreed: null pruning and defaulting before required fields are checked,
 * lengths in characters, generateName's masked trailing dash, finalizer names, and status dropped on create.
 */
function check(text: string, options: Parameters<typeof validateDocuments>[1] = {}): string[] {
  const parsed = parseManifests(text, 'demo.yaml');
  return validateDocuments(parsed.documents, options).map(formatProblem);
}

const errors = (lines: string[]) => lines.filter((line) => !line.includes('note: '));

const policy = (spec: string, metadata = '') => `apiVersion: sympozium.ai/v1alpha1
kind: SympoziumPolicy
metadata:
  name: demo
${metadata}spec:
${spec}`;

describe('validate follows the API server', () => {
  it('counts a required field set to null as missing (a null the schema does not allow is dropped first)', () => {
    const lines = check(policy('  toolGating:\n    defaultAction: allow\n    rules:\n      - tool: null\n        action: deny\n'));
    expect(errors(lines)).toEqual(['demo.yaml:9:15  spec.toolGating.rules[0].tool: required: null counts as missing']);
  });

  it('counts maxLength in characters, not UTF-16 units', () => {
    const lines = check(`apiVersion: sympozium.ai/v1alpha1
kind: SkillPack
metadata:
  name: demo
spec:
  skills:
    - name: x
      content: body
  sidecar:
    image: busybox
    tools:
      - name: t
        description: "${'\u{1F600}'.repeat(2048)}"
        exec: [echo]
`, { release: 'v0.10.46' });
    expect(errors(lines)).toEqual([]);
  });

  it("masks generateName's trailing dash as apimachinery does, and checks finalizer names", () => {
    expect(errors(check(policy('  {}\n', '  generateName: demo-\n')))).toEqual([]);
    expect(errors(check(policy('  {}\n', '  generateName: "-"\n')))).toHaveLength(1);
    expect(errors(check(policy('  {}\n', '  finalizers: [example.com/cleanup]\n')))).toEqual([]);
    expect(errors(check(policy('  {}\n', '  finalizers: ["bad finalizer"]\n')))).toEqual([
      'demo.yaml:5:16  metadata.finalizers[0]: finalizer must be letters, digits, -, _ and . and begin and end with a letter or digit',
    ]);
  });

  it('notes what status holds instead of refusing it, but still refuses an unknown field there', () => {
    const typed = check(`${policy('  {}\n')}status:\n  conditions:\n    - type: Ready\n      status: Maybe\n`);
    expect(errors(typed)).toEqual([]);
    expect(typed.join('\n')).toContain("the API server ignores status here: it is the controller's to write");
    expect(errors(check(`${policy('  {}\n')}status:\n  bogus: 1\n`))).toHaveLength(1);
  });
});
