import fc from 'fast-check';
import { decodeAck, encodeAck, encodeFrame, FrameError, FrameKind, FrameReader } from './stream-frames';

/** Cuts `bytes` at the given fractions of its length (sorted, deduplicated). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const positions = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.length)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const position of [...positions, bytes.length]) {
    pieces.push(bytes.subarray(start, position));
    start = position;
  }
  return pieces;
}

describe('stream frames', () => {
  it('property: any frames, cut into any chunks, come out whole and in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((payload) => encodeFrame(FrameKind.Batch, payload)));
          const reader = new FrameReader();
          const frames = split(stream, cuts).flatMap((chunk) => reader.push(chunk));
          expect(frames.map((frame) => frame.kind)).toEqual(payloads.map(() => FrameKind.Batch));
          expect(frames.map((frame) => Buffer.from(frame.payload))).toEqual(
            payloads.map((payload) => Buffer.from(payload)),
          );
        },
      ),
    );
  });

  it('round-trips acknowledgement counts modulo 2^32', () => {
    const reader = new FrameReader();
    const [first, second] = reader.push(Buffer.concat([encodeAck(7), encodeAck(2 ** 32 + 5)]));
    expect([first.kind, decodeAck(first.payload)]).toEqual([FrameKind.Ack, 7]);
    expect(decodeAck(second.payload)).toBe(5);
  });

  it('rejects an impossible length and an unknown kind', () => {
    const huge = Buffer.alloc(8);
    huge.writeUInt32LE(0xffff_ffff, 0);
    expect(() => new FrameReader().push(huge)).toThrow(FrameError);
    const empty = Buffer.alloc(4);
    expect(() => new FrameReader().push(empty)).toThrow(FrameError);
    const unknown = encodeFrame(FrameKind.Batch, Buffer.from('x'));
    unknown[4] = 9;
    expect(() => new FrameReader().push(unknown)).toThrow(/unknown frame kind 9/);
    expect(() => decodeAck(Buffer.alloc(3))).toThrow(FrameError);
  });
});
