/**
 * Frames of the Raft stream between two peers (one TCP connection per direction of a peer pair, opened by an HTTP
 * upgrade on the API port, see stream-server.ts):
 *
 * frame := length u32 LE (of kind + payload) | kind u8 | payload
 * kind 1 (batch): payload is one message batch (wire.ts), sender to receiver;
 * kind 2 (ack):   payload is u32 LE, how many batch frames the receiver has taken so far (modulo 2^32), receiver to
 *                 sender. The sender uses it only to notice a stream that stopped moving.
 */
export const STREAM_PROTOCOL = 'metricstream-raft/1';
export const STREAM_PATH = '/v1/internal/raft-stream';

export const FrameKind = { Batch: 1, Ack: 2 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Larger than any batch a sender builds (transport.ts bounds them to a few MiB): anything above is corruption. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export function encodeFrame(kind: FrameKind, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + payload.length);
  frame.writeUInt32LE(1 + payload.length, 0);
  frame[4] = kind;
  frame.set(payload, 5);
  return frame;
}

export function encodeAck(count: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32LE(count >>> 0, 0);
  return encodeFrame(FrameKind.Ack, payload);
}

export function decodeAck(payload: Buffer): number {
  if (payload.length !== 4) throw new FrameError(`ack payload of ${payload.length} bytes, expected 4`);
  return payload.readUInt32LE(0);
}

export interface Frame {
  kind: FrameKind;
  payload: Buffer;
}

/**
 * Cuts a byte stream into frames. Chunks are kept as they arrive and joined once per frame, so a frame of megabytes
 * arriving in 64 KiB pieces is copied once, not once per piece.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Takes the next chunk off the socket; answers the frames it completed. Throws FrameError on a malformed frame. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < 4) return frames;
      const length = this.peekLength();
      if (length < 1 || length > MAX_FRAME_BYTES) throw new FrameError(`frame length ${length} is out of range`);
      if (this.buffered < 4 + length) return frames;
      const bytes = this.take(4 + length);
      const kind = bytes[4];
      if (kind !== FrameKind.Batch && kind !== FrameKind.Ack) throw new FrameError(`unknown frame kind ${kind}`);
      frames.push({ kind, payload: bytes.subarray(5) });
    }
  }

  private peekLength(): number {
    if (this.chunks[0].length >= 4) return this.chunks[0].readUInt32LE(0);
    return this.join().readUInt32LE(0);
  }

  private join(): Buffer {
    const joined = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [joined];
    return joined;
  }

  private take(count: number): Buffer {
    const first = this.chunks[0].length >= count ? this.chunks[0] : this.join();
    const taken = first.subarray(0, count);
    const rest = first.subarray(count);
    this.chunks[0] = rest;
    if (rest.length === 0) this.chunks.shift();
    this.buffered -= count;
    return taken;
  }
}
