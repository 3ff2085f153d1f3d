import { randomBytes } from 'node:crypto';
import { chmod, link, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file so that readers see either nothing, the old file or the whole new one, never half of it: the
 * text goes to a temporary file beside the target, then takes its name. Without `overwrite`, the name is taken
 * with link(), which fails if the target exists, so even a file created meanwhile is never clobbered.
 */
export async function writeFileAtomic(file: string, text: string, options: { mode: number; overwrite: boolean }): Promise<void> {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', options.mode);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // The umask may have taken bits away from the mode; a key file must be exactly 0600.
    await chmod(temporary, options.mode);
    if (options.overwrite) {
      await rename(temporary, file);
      return;
    }
    try {
      await link(temporary, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Some filesystems cannot hard-link; fall back to rename after the existence check the caller made.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
        await rename(temporary, file);
        return;
      }
      throw error;
    }
    await unlink(temporary);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}
