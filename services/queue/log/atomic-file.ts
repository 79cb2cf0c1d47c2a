import fs from 'node:fs';
import path from 'node:path';

/** Makes a file change appear atomic: write `<name>.tmp`, fsync it, rename over the target, fsync the directory. */
export function writeFileAtomic(target: string, bytes: Uint8Array | string): void {
  const temporary = `${target}.tmp`;
  const fd = fs.openSync(temporary, 'w');
  try {
    fs.writeFileSync(fd, bytes);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, target);
  syncDirectory(path.dirname(target));
}

export async function writeFileAtomicAsync(target: string, bytes: Uint8Array | string): Promise<void> {
  const temporary = `${target}.tmp`;
  const file = await fs.promises.open(temporary, 'w');
  try {
    await file.writeFile(bytes);
    await file.datasync();
  } finally {
    await file.close();
  }
  await fs.promises.rename(temporary, target);
  await syncDirectoryAsync(path.dirname(target));
}

export async function syncDirectoryAsync(directory: string): Promise<void> {
  const handle = await fs.promises.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function syncDirectory(directory: string): void {
  const fd = fs.openSync(directory, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Leftovers of writes interrupted by a crash; none of them is ever the real file. */
export function removeTemporaryFiles(directory: string): void {
  for (const name of fs.readdirSync(directory)) if (name.endsWith('.tmp')) fs.rmSync(path.join(directory, name));
}
