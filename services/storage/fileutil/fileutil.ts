import fs from 'node:fs/promises';
import path from 'node:path';

/** fsync a directory so a create, rename or unlink inside it survives a power loss. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `file` so it is either the old or the new content after a crash: `.tmp`, fsync, rename, fsync the dir. */
export async function writeFileAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const temporary = `${file}.tmp`;
  const handle = await fs.open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
  await syncDirectory(path.dirname(file));
}

/** Writes a file and fsyncs it (no rename: for files inside a directory that is itself renamed into place). */
export async function writeFileSynced(file: string, data: Uint8Array | string): Promise<void> {
  const handle = await fs.open(file, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function sizeOfTree(target: string): Promise<number> {
  const stat = await fs.stat(target).catch(() => undefined);
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of await fs.readdir(target)) total += await sizeOfTree(path.join(target, entry));
  return total;
}
