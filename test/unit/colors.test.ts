import { describe, expect, it } from 'vitest';
import { createStyle, loadChalk } from '../../src/ui/colors.js';
import { loadOutputColors, Output } from '../../src/ui/output.js';

const sink = (isTTY: boolean) => ({ text: '', isTTY, write(chunk: string) { this.text += chunk; } });

describe('colours', () => {
  it('are chalk\'s, chained styles included', async () => {
    const style = createStyle(1, await loadChalk([1]));
    expect(style.red('x')).toBe('\x1b[31mx\x1b[39m');
    expect(style.bold.cyan('you')).toBe('\x1b[1m\x1b[36myou\x1b[39m\x1b[22m');
  });
  it('leave text alone when off, and chalk is not even loaded then', async () => {
    expect(await loadChalk([0, 0])).toBeUndefined();
    expect(createStyle(0, await loadChalk([1])).bold.cyan('you')).toBe('you');
    expect(createStyle(1).bold.cyan('you')).toBe('you');
  });
  it('follow the TTY, NO_COLOR, FORCE_COLOR and --no-color like chalk', async () => {
    const colored = async (env: NodeJS.ProcessEnv, isTTY: boolean, color?: boolean) => {
      const options = { stdout: sink(isTTY), stderr: sink(isTTY), env, color };
      return new Output({ ...options, Chalk: await loadOutputColors(options) }).color.red('x') !== 'x';
    };
    expect(await colored({}, true)).toBe(true);
    expect(await colored({}, false)).toBe(false);
    expect(await colored({ NO_COLOR: '1' }, true)).toBe(false);
    expect(await colored({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(await colored({ FORCE_COLOR: '0' }, true)).toBe(false);
    expect(await colored({}, true, false)).toBe(false);
  });
  it('colour stderr on its own when only stderr is a terminal', async () => {
    const options = { stdout: sink(false), stderr: sink(true), env: {} };
    const out = new Output({ ...options, Chalk: await loadOutputColors(options) });
    expect(out.color.red('x')).toBe('x');
    expect(out.errColor.red('x')).toBe('\x1b[31mx\x1b[39m');
  });
});
