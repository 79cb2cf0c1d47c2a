import fc from 'fast-check';
import { encodeFrame, FRAME_HEADER_BYTES, scanFrames } from './frame';

const payloads = fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 });
const encodeAll = (items: Uint8Array[]) => Buffer.concat(items.map((item, index) => encodeFrame(item, index + 1)));

describe('spool frames', () => {
  it('round-trips any sequence of frames', () => {
    fc.assert(
      fc.property(payloads, (items) => {
        const scan = scanFrames(encodeAll(items));
        expect(scan.tail).toBe('clean');
        expect(scan.frames.map((frame) => Buffer.from(frame.payload))).toEqual(items.map((item) => Buffer.from(item)));
        expect(scan.frames.map((frame) => frame.count)).toEqual(items.map((_, index) => index + 1));
      }),
    );
  });

  it('a file cut at every offset yields exactly the whole frames before the cut', () => {
    const items = [Buffer.from('[{"key":"a"}]'), Buffer.alloc(0), Buffer.from('[1,2,3]'), Buffer.from('x'.repeat(30))];
    const bytes = encodeAll(items);
    const ends: number[] = [];
    let offset = 0;
    for (const item of items) ends.push((offset += FRAME_HEADER_BYTES + item.length));
    for (let cut = 0; cut <= bytes.length; cut++) {
      const scan = scanFrames(bytes.subarray(0, cut));
      const whole = ends.filter((end) => end <= cut).length;
      expect(scan.frames).toHaveLength(whole);
      expect(scan.validLength).toBe(whole === 0 ? 0 : ends[whole - 1]);
      expect(scan.tail).toBe(cut === scan.validLength ? 'clean' : 'torn');
    }
  });

  it('stops at a flipped bit and keeps the frames before it', () => {
    const items = [Buffer.from('first'), Buffer.from('second'), Buffer.from('third')];
    const bytes = encodeAll(items);
    const secondStart = FRAME_HEADER_BYTES + items[0].length;
    for (let position = secondStart; position < secondStart + FRAME_HEADER_BYTES + items[1].length; position++) {
      for (const bit of [0x01, 0x80]) {
        const damaged = Buffer.from(bytes);
        damaged[position] ^= bit;
        const scan = scanFrames(damaged);
        expect(scan.frames.map((frame) => Buffer.from(frame.payload).toString())).toEqual(['first']);
        expect(scan.validLength).toBe(secondStart);
        expect(scan.tail).not.toBe('clean');
      }
    }
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const scan = scanFrames(bytes);
        expect(scan.validLength).toBeLessThanOrEqual(bytes.length);
      }),
    );
  });
});
