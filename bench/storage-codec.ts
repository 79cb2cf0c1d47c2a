/**
 * Chunk codec benchmark: bytes per point and encode/decode speed of Gorilla XOR (the head's encoding) against the
 * sealed-block codec (encodeChunk: the smallest of XOR, bit-packed scaled decimals and deflated scaled decimals) on
 * a deterministic dataset of CPU-like gauges rounded to one decimal. `node dist/bench/storage-codec.js [--full]`;
 * --full runs the busy variant on all 1,000 series too and times three rounds.
 */
import { seededRandom } from '../services/kit/clock';
import { ChunkEncoding, decodeChunk, encodeChunk } from '../services/storage/chunk/codec';
import { Samples } from '../services/storage/chunk/samples';
import { XorAppender, decodeXor } from '../services/storage/chunk/xor';

const SERIES = 1000;
const INTERVAL_MS = 10_000;
const POINTS_PER_SERIES = (24 * 3600 * 1000) / INTERVAL_MS;
const START_MS = Date.UTC(2026, 0, 1);
const ENCODING_NAMES = new Map<number, string>(Object.entries(ChunkEncoding).map(([name, id]) => [id, name]));

/**
 * A CPU-like gauge: a mean-reverting random walk in [0, 100] with occasional bursts, rounded to one decimal. `step`
 * is the largest move per 10 s: 0.125 is calibrated so that Gorilla XOR measures the ~4.3 bytes/point seen on real
 * CPU gauges (a third of neighbours repeat after rounding); 1.0 is a busier variant where almost none repeat.
 */
function generateSeries(seed: number, step: number): Samples {
  const random = seededRandom(seed);
  const timestamps = new Float64Array(POINTS_PER_SERIES);
  const values = new Float64Array(POINTS_PER_SERIES);
  const baseline = 5 + random() * 60;
  let level = baseline;
  for (let index = 0; index < POINTS_PER_SERIES; index++) {
    const burst = random() < 0.002 ? (random() - 0.3) * 40 : 0;
    level += (random() - 0.5) * 2 * step + (baseline - level) * 0.01 + burst;
    level = Math.min(100, Math.max(0, level));
    timestamps[index] = START_MS + index * INTERVAL_MS;
    values[index] = Math.round(level * 10) / 10;
  }
  return { timestamps, values };
}

function slices(series: Samples[], chunkSize: number): Samples[] {
  const chunks: Samples[] = [];
  for (const samples of series) {
    for (let start = 0; start < samples.timestamps.length; start += chunkSize) {
      const end = Math.min(start + chunkSize, samples.timestamps.length);
      chunks.push({ timestamps: samples.timestamps.subarray(start, end), values: samples.values.subarray(start, end) });
    }
  }
  return chunks;
}

function encodeXor(samples: Samples): Uint8Array {
  const appender = XorAppender.create();
  for (let index = 0; index < samples.timestamps.length; index++)
    appender.append(samples.timestamps[index], samples.values[index]);
  return appender.bytes();
}

interface Figures {
  bytesPerPoint: number;
  /** Points per second of this process's CPU time: the machine is shared, so wall time overstates the cost. */
  encodePointsPerSecond: number;
  decodePointsPerSecond: number;
  decodeWallPointsPerSecond: number;
  /** Share of chunks per encoding, e.g. "decimalPacked 98%, decimalDeflate 2%". */
  encodingMix: string;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

function measure(
  chunks: Samples[],
  encode: (samples: Samples) => Uint8Array,
  decode: (bytes: Uint8Array) => Samples,
  repeats: number,
): Figures {
  const points = chunks.reduce((sum, chunk) => sum + chunk.timestamps.length, 0);
  let encoded: Uint8Array[] = [];
  const encodeStart = process.cpuUsage();
  for (let round = 0; round < repeats; round++) encoded = chunks.map(encode);
  const encodeSeconds = cpuSeconds(encodeStart) / repeats;
  const bytes = encoded.reduce((sum, chunk) => sum + chunk.length, 0);
  const perEncoding = new Map<number, number>();
  for (const chunk of encoded) perEncoding.set(chunk[0], (perEncoding.get(chunk[0]) ?? 0) + 1);
  const encodingMix =
    encode === encodeChunk
      ? [...perEncoding]
          .sort((left, right) => right[1] - left[1])
          .map(([id, count]) => `${ENCODING_NAMES.get(id)} ${((count / encoded.length) * 100).toFixed(0)}%`)
          .join(', ')
      : '-';
  for (const chunk of encoded) decode(chunk);
  let decodedPoints = 0;
  const decodeRounds = repeats * 3;
  const decodeStart = process.cpuUsage();
  const decodeWallStart = performance.now();
  for (let round = 0; round < decodeRounds; round++) {
    for (const chunk of encoded) decodedPoints += decode(chunk).values.length;
  }
  const decodeWallSeconds = (performance.now() - decodeWallStart) / 1000 / decodeRounds;
  const decodeSeconds = cpuSeconds(decodeStart) / decodeRounds;
  if (decodedPoints !== points * decodeRounds) throw new Error('decoded point count mismatch');
  return {
    bytesPerPoint: bytes / points,
    encodePointsPerSecond: points / encodeSeconds,
    decodePointsPerSecond: points / decodeSeconds,
    decodeWallPointsPerSecond: points / decodeWallSeconds,
    encodingMix,
  };
}

function verify(chunks: Samples[]): void {
  for (const chunk of chunks) {
    const decoded = decodeChunk(encodeChunk(chunk));
    for (let index = 0; index < chunk.values.length; index++) {
      if (
        !Object.is(decoded.values[index], chunk.values[index]) ||
        decoded.timestamps[index] !== chunk.timestamps[index]
      )
        throw new Error('round trip mismatch');
    }
  }
}

function main(): void {
  const isFull = process.argv.includes('--full');
  const repeats = isFull ? 3 : 1;
  const datasets = [
    { name: 'calm (step ±0.125)', step: 0.125, series: SERIES },
    { name: 'busy (step ±1.0)', step: 1, series: isFull ? SERIES : 100 },
  ];
  console.log(
    `node ${process.version}, ${isFull ? 'full' : 'short'} run, ${POINTS_PER_SERIES} points per series (10 s for 24 h)`,
  );
  console.log(
    '| dataset | series | encoding | points/chunk | bytes/point | vs 16 B raw | encode points/CPU-s | decode points/CPU-s (wall) | chunk encodings |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const dataset of datasets) {
    const series = Array.from({ length: dataset.series }, (_, index) => generateSeries(index + 1, dataset.step));
    for (const chunkSize of [120, 8192]) {
      const chunks = slices(series, chunkSize);
      verify(chunks.slice(0, 200));
      const xor = measure(chunks, encodeXor, decodeXor, repeats);
      const codec = measure(chunks, encodeChunk, decodeChunk, repeats);
      for (const [name, figures] of [
        ['XOR (head)', xor],
        ['encodeChunk (sealed)', codec],
      ] as const) {
        console.log(
          `| ${dataset.name} | ${dataset.series} | ${name} | ${chunkSize} | ${figures.bytesPerPoint.toFixed(3)} | ` +
            `${(16 / figures.bytesPerPoint).toFixed(1)}:1 | ${(figures.encodePointsPerSecond / 1e6).toFixed(1)}M | ` +
            `${(figures.decodePointsPerSecond / 1e6).toFixed(1)}M (${(figures.decodeWallPointsPerSecond / 1e6).toFixed(1)}M) | ${figures.encodingMix} |`,
        );
      }
    }
  }
}

main();
