// Atomic file replacement: write a temp file in the same directory, fsync it, rename it over the
// original, fsync the directory. A crash or error at any point leaves either the old or the new file,
// never a half-written one.
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface AtomicWriteHooks {
  /** Test hook: called after the temp file is written, before the rename (throw to simulate a crash). */
  beforeRename?: (tempPath: string) => void | Promise<void>;
  /** Test hook: replaces the write of the temp file's content (throw mid-way to simulate a failed write). */
  writeContent?: (fd: import('node:fs/promises').FileHandle, content: string) => Promise<void>;
}

export async function writeFileAtomic(path: string, content: string, hooks: AtomicWriteHooks = {}): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.kube-sa-audit-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let mode: number | undefined;
  try {
    mode = (await stat(path)).mode & 0o7777;
  } catch {
    mode = undefined;
  }
  const fh = await open(temp, 'wx', mode ?? 0o644);
  try {
    try {
      if (hooks.writeContent) await hooks.writeContent(fh, content);
      else await fh.writeFile(content, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (mode !== undefined) {
      // `open`'s mode is filtered by the umask; keep the original file's permissions exactly.
      const { chmod } = await import('node:fs/promises');
      await chmod(temp, mode);
    }
    await hooks.beforeRename?.(temp);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  }
}
