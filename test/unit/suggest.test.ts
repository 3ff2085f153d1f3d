import { describe, expect, it } from 'vitest';
import { closeness, editDistance, suggestValue } from '../../src/sympozium/suggest.js';

describe('did-you-mean distance', () => {
  it('counts two swapped neighbours as one slip', () => {
    expect(editDistance('modle', 'model')).toBe(1);
    expect(editDistance('plian', 'plain')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
  it('suggests the closest name, and nothing for unrelated ones', () => {
    expect(suggestValue('plian', ['plain', 'demo'])).toBe('plain');
    expect(suggestValue('modle', ['model', 'baseURL', 'thinking'])).toBe('model');
    expect(closeness('zzz', 'demo')).toBeUndefined();
  });
});
