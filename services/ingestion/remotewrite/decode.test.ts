import fc from 'fast-check';
import { uncompress } from 'snappyjs';
import { encodeWriteRequest, remoteWriteBody } from '../testing/remote-write';
import { seriesToMetrics } from './convert';
import { decodeWriteRequest, ProtobufError, type TimeSeries } from './decode';

const series: TimeSeries[] = [
  {
    labels: [
      { name: '__name__', value: 'up' },
      { name: 'job', value: 'prometheus' },
      { name: 'instance', value: 'localhost:9090' },
    ],
    samples: [
      { value: 1, timestamp: 1_700_000_000_000 },
      { value: NaN, timestamp: 1_700_000_015_000 },
    ],
  },
  { labels: [{ name: '__name__', value: 'temp_ü' }], samples: [{ value: -0.5, timestamp: 0 }] },
];

describe('remote-write decoding', () => {
  it('decodes a hand-encoded, snappy-compressed WriteRequest', () => {
    const decoded = decodeWriteRequest(uncompress(remoteWriteBody(series)));
    expect(decoded).toEqual(series);
  });

  it('round-trips any series, including -0, ±Infinity, NaN and negative timestamps', () => {
    const label = fc.record({ name: fc.string(), value: fc.string() });
    const sample = fc.record({ value: fc.double(), timestamp: fc.integer({ min: -(2 ** 50), max: 2 ** 50 }) });
    fc.assert(
      fc.property(
        fc.array(fc.record({ labels: fc.array(label), samples: fc.array(sample) }), { maxLength: 5 }),
        (input) => {
          expect(decodeWriteRequest(encodeWriteRequest(input))).toEqual(input);
        },
      ),
    );
  });

  it('skips fields it does not use (metadata, exemplars)', () => {
    const known = encodeWriteRequest(series);
    // WriteRequest.metadata = 3 (length-delimited), plus a varint field 9 and a fixed32 field 10.
    const extra = Uint8Array.from([0x1a, 0x02, 0x08, 0x01, 0x48, 0x96, 0x01, 0x55, 1, 2, 3, 4]);
    expect(decodeWriteRequest(Uint8Array.from([...extra, ...known]))).toEqual(series);
  });

  it('reports truncation with an offset and only ever throws ProtobufError', () => {
    const bytes = encodeWriteRequest(series);
    for (let cut = 1; cut < bytes.length; cut++) {
      try {
        decodeWriteRequest(bytes.subarray(0, cut));
      } catch (error) {
        expect(error).toBeInstanceOf(ProtobufError);
      }
    }
    expect(() => decodeWriteRequest(bytes.subarray(0, 5))).toThrow(/at byte \d+/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (random) => {
        try {
          decodeWriteRequest(random);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtobufError);
        }
      }),
    );
  });
});

describe('seriesToMetrics', () => {
  it('maps __name__ to the name and other labels to tags, skipping NaN staleness markers', () => {
    expect(seriesToMetrics(series)).toEqual({
      metrics: [
        {
          name: 'up',
          value: 1,
          type: 'gauge',
          tags: { job: 'prometheus', instance: 'localhost:9090' },
          timestamp: 1_700_000_000_000,
        },
        { name: 'temp_ü', value: -0.5, type: 'gauge', tags: {}, timestamp: 0 },
      ],
      skippedNaN: 1,
    });
  });
});
