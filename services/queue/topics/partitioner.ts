/** FNV-1a, 32 bits, over the key's UTF-8 bytes: the partition of a key never changes (docs/CONTRACTS.md). */
export function fnv1a32(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

export const partitionOf = (key: string, partitionCount: number) => fnv1a32(key) % partitionCount;
