import { describe, expect, it } from 'vitest';
import { createStyle } from '../../src/ui/colors.js';
import { Output } from '../../src/ui/output.js';

const sink = (isTTY: boolean) => ({ text: '', isTTY, write(chunk: string) { this.text += chunk; } });

describe('colours', () => {
  it('wrap text in ANSI codes, chained styles included', () => {
    const style = createStyle(true);
    expect(style.red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(style.bold.cyan('you')).toBe('\x1b[1m\x1b[36myou\x1b[39m\x1b[22m');
  });
  it('leave text alone when disabled', () => {
    expect(createStyle(false).bold.cyan('you')).toBe('you');
  });
  it('follow the TTY, NO_COLOR, FORCE_COLOR and --no-color like chalk', () => {
    const colored = (env: NodeJS.ProcessEnv, isTTY: boolean, color?: boolean) =>
      new Output({ stdout: sink(isTTY), stderr: sink(isTTY), env, color }).color.red('x') !== 'x';
    expect(colored({}, true)).toBe(true);
    expect(colored({}, false)).toBe(false);
    expect(colored({ NO_COLOR: '1' }, true)).toBe(false);
    expect(colored({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(colored({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(colored({}, true, false)).toBe(false);
  });
});
