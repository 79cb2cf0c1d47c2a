/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum iSCSI, ext4 and Kafka record batches use.
 * Slicing-by-8: eight 256-entry tables let the loop consume eight bytes per step, which matters because every log
 * frame is checksummed on write and again on every read.
 */
const POLYNOMIAL = 0x82f63b78;

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    tables[0][byte] = crc >>> 0;
  }
  for (let byte = 0; byte < 256; byte++) {
    let crc = tables[0][byte];
    for (let slice = 1; slice < 8; slice++) {
      crc = tables[0][crc & 0xff] ^ (crc >>> 8);
      tables[slice][byte] = crc >>> 0;
    }
  }
  return tables;
}

const [t0, t1, t2, t3, t4, t5, t6, t7] = buildTables();

/** Continues a CRC over `bytes[start, end)`; pass the previous result as `crc` to checksum data in pieces. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  let state = ~crc >>> 0;
  let position = start;
  for (; position + 8 <= end; position += 8) {
    const low =
      (state ^
        (bytes[position] | (bytes[position + 1] << 8) | (bytes[position + 2] << 16) | (bytes[position + 3] << 24))) >>>
      0;
    state =
      t7[low & 0xff] ^
      t6[(low >>> 8) & 0xff] ^
      t5[(low >>> 16) & 0xff] ^
      t4[low >>> 24] ^
      t3[bytes[position + 4]] ^
      t2[bytes[position + 5]] ^
      t1[bytes[position + 6]] ^
      t0[bytes[position + 7]];
  }
  for (; position < end; position++) state = t0[(state ^ bytes[position]) & 0xff] ^ (state >>> 8);
  return ~state >>> 0;
}
