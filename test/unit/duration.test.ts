import { describe, expect, it } from 'vitest';
import { humanDuration, parseDuration, shortDuration } from '../../src/duration.js';
import { maskSecret } from '../../src/sympozium/secrets.js';
import { renderTable } from '../../src/ui/table.js';

describe('humanDuration matches kubectl ages', () => {
  it.each([
    [-5_000, '<invalid>'],
    [-500, '0s'],
    [0, '0s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [150_000, '2m30s'],
    [11 * 60_000, '11m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000 + 15 * 60_000, '3h15m'],
    [8 * 3_600_000, '8h'],
    [47 * 3_600_000, '47h'],
    [50 * 3_600_000, '2d2h'],
    [10 * 86_400_000, '10d'],
    [3 * 365 * 86_400_000, '3y'],
    [9 * 365 * 86_400_000, '9y'],
  ])('%i ms -> %s', (ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });
});

describe('parseDuration', () => {
  it('reads Go-style durations and bare seconds', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('15')).toBe(15_000);
  });
  it('rejects anything else', () => {
    for (const bad of ['', 'soon', '5 minutes', '5x', 'm5', '1h 30m']) expect(parseDuration(bad), bad).toBeUndefined();
  });
});

describe('maskSecret', () => {
  it('keeps only the prefix and last four characters', () => {
    const key = `sk-${'a1'.repeat(24)}`;
    const masked = maskSecret(key);
    expect(masked).toBe('sk-…a1a1');
    expect(masked).not.toContain(key.slice(3, 20));
  });
  it('never reveals short secrets', () => {
    expect(maskSecret('abc')).not.toContain('abc');
  });
});

describe('shortDuration and tables', () => {
  it('formats run durations', () => {
    expect(shortDuration(850)).toBe('850ms');
    expect(shortDuration(4200)).toBe('4.2s');
    expect(shortDuration(192_000)).toBe('3m12s');
  });
  it('aligns columns like kubectl, ignoring colour codes', () => {
    const table = renderTable(['name', 'phase'], [['demo', '\x1b[32mRunning\x1b[39m'], ['a-longer-name', 'Pending']]);
    expect(table.split('\n')).toEqual(['NAME            PHASE', 'demo            \x1b[32mRunning\x1b[39m', 'a-longer-name   Pending']);
  });
});
