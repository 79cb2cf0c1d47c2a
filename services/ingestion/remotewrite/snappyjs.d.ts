declare module 'snappyjs' {
  /** Decompresses a snappy block; throws when the declared length exceeds `maxLength` or the stream is invalid. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(uncompressed: Uint8Array): Uint8Array;
}
