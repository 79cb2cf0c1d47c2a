import fs from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory, writeFileAtomically } from '../fileutil/fileutil';
import { WalClosedError, WalCorruptionError } from './errors';
import { encodeFrame, scanFrames } from './frame';

/**
 * A segmented write-ahead log of opaque records (FORMAT.md, "WAL segments"), modelled on tsdb's wlog:
 * - segments `00000000`, `00000001`, … each a run of frames; a new one starts when the current one is full, at every
 *   open, and on `rotate()`;
 * - group commit: appends made while a write is in flight are written together and share one fdatasync;
 * - `checkpoint.N` holds, in the same framing, the state of every segment below N, so those can be deleted.
 * Rotation decisions are made synchronously in `append`/`rotate`, so the caller knows exactly which segment each record
 * lands in; that is what makes "snapshot the head, rotate, checkpoint" consistent without locks.
 */
export interface WalOptions {
  segmentBytes: number;
  /** false skips fdatasync (tests and benchmarks only: acknowledged writes may then be lost on power loss). */
  isSyncing: boolean;
  /** Seconds each fdatasync took. */
  onSync?: (seconds: number) => void;
}

export interface RecordPosition {
  file: string;
  segment: number;
  offset: number;
}

export interface WalOpening {
  wal: Wal;
  /** A torn or damaged tail of the last segment that was cut off (expected after a crash). */
  repaired?: WalCorruptionError;
}

type QueuedItem =
  { kind: 'record'; frame: Uint8Array; resolve: () => void; reject: (error: Error) => void } | { kind: 'rotate' };

const SEGMENT_NAME = /^\d{8}$/;
const CHECKPOINT_NAME = /^checkpoint\.(\d{8})$/;
const segmentName = (segment: number) => String(segment).padStart(8, '0');

export class Wal {
  private readonly queue: QueuedItem[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private isClosed = false;
  /** The segment the next appended record will land in. */
  private plannedSegment: number;
  private plannedBytes = 0;
  private writtenSegment: number;
  private rotationWaiters: { segment: number; resolve: () => void }[] = [];

  private constructor(
    readonly directory: string,
    private readonly options: WalOptions,
    private handle: fs.FileHandle,
    segment: number,
  ) {
    this.plannedSegment = segment;
    this.writtenSegment = segment;
  }

  /**
   * Replays the latest checkpoint and every later segment through `replay`, cuts off a torn tail of the last segment,
   * removes leftovers of an interrupted truncation, and starts a new segment. Throws WalCorruptionError for damage
   * anywhere but the tail of the last segment.
   */
  static async open(
    directory: string,
    options: WalOptions,
    replay: (record: Uint8Array, position: RecordPosition) => void,
  ): Promise<WalOpening> {
    await fs.mkdir(directory, { recursive: true });
    const names = await fs.readdir(directory);
    for (const name of names) if (name.endsWith('.tmp')) await fs.rm(path.join(directory, name), { force: true });
    const checkpoints = names
      .map((name) => CHECKPOINT_NAME.exec(name))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => Number(match[1]))
      .sort((a, b) => a - b);
    const checkpoint = checkpoints.at(-1);
    let segments = names
      .filter((name) => SEGMENT_NAME.test(name))
      .map(Number)
      .sort((a, b) => a - b);
    if (checkpoint !== undefined) {
      for (const segment of segments.filter((number) => number < checkpoint))
        await fs.rm(path.join(directory, segmentName(segment)));
      for (const older of checkpoints.slice(0, -1))
        await fs.rm(path.join(directory, `checkpoint.${segmentName(older)}`));
      segments = segments.filter((number) => number >= checkpoint);
      const file = `checkpoint.${segmentName(checkpoint)}`;
      const scan = scanFrames(await fs.readFile(path.join(directory, file)));
      if (scan.problem) throw new WalCorruptionError(file, checkpoint, scan.problem.offset, scan.problem.reason);
      scan.records.forEach((record, index) =>
        replay(record, { file, segment: checkpoint, offset: scan.offsets[index] }),
      );
    }
    let repaired: WalCorruptionError | undefined;
    for (let index = 0; index < segments.length; index++) {
      const segment = segments[index];
      if (index > 0 && segment !== segments[index - 1] + 1)
        throw new WalCorruptionError(segmentName(segment), segment, 0, `segment ${segments[index - 1] + 1} is missing`);
      const file = segmentName(segment);
      const bytes = await fs.readFile(path.join(directory, file));
      const scan = scanFrames(bytes);
      scan.records.forEach((record, position) => replay(record, { file, segment, offset: scan.offsets[position] }));
      if (!scan.problem) continue;
      const corruption = new WalCorruptionError(file, segment, scan.problem.offset, scan.problem.reason);
      if (index !== segments.length - 1) throw corruption;
      await fs.truncate(path.join(directory, file), scan.validLength);
      repaired = corruption;
    }
    const next = (segments.at(-1) ?? (checkpoint ?? 0) - 1) + 1;
    const handle = await Wal.createSegment(directory, next);
    return { wal: new Wal(directory, options, handle, next), repaired };
  }

  private static async createSegment(directory: string, segment: number): Promise<fs.FileHandle> {
    const handle = await fs.open(path.join(directory, segmentName(segment)), 'a');
    await syncDirectory(directory);
    return handle;
  }

  /** Queues a record; resolves once it is written and (unless syncing is off) fdatasynced. */
  append(record: Uint8Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const frame = encodeFrame(record);
    if (this.plannedBytes > 0 && this.plannedBytes + frame.length > this.options.segmentBytes) this.rotate();
    this.plannedBytes += frame.length;
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'record', frame, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Every record appended after this call goes to a new segment, whose number is returned. */
  rotate(): number {
    this.queue.push({ kind: 'rotate' });
    this.plannedSegment += 1;
    this.plannedBytes = 0;
    this.scheduleFlush();
    return this.plannedSegment;
  }

  /**
   * Writes `checkpoint.N` (the state of everything below segment N, as records), waits until every segment below N
   * is fully written, then deletes them and older checkpoints.
   */
  async checkpoint(segment: number, records: readonly Uint8Array[]): Promise<void> {
    const frames = records.map(encodeFrame);
    const size = frames.reduce((total, frame) => total + frame.length, 0);
    const joined = new Uint8Array(size);
    let position = 0;
    for (const frame of frames) {
      joined.set(frame, position);
      position += frame.length;
    }
    await writeFileAtomically(path.join(this.directory, `checkpoint.${segmentName(segment)}`), joined);
    await this.segmentReached(segment);
    for (const name of await fs.readdir(this.directory)) {
      const checkpointMatch = CHECKPOINT_NAME.exec(name);
      const isOld = checkpointMatch
        ? Number(checkpointMatch[1]) < segment
        : SEGMENT_NAME.test(name) && Number(name) < segment;
      if (isOld) await fs.rm(path.join(this.directory, name), { force: true });
    }
    await syncDirectory(this.directory);
  }

  private segmentReached(segment: number): Promise<void> {
    if (this.writtenSegment >= segment) return Promise.resolve();
    return new Promise((resolve) => this.rotationWaiters.push({ segment, resolve }));
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0 && !this.failure) this.scheduleFlush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const items = this.queue.splice(0);
      let frames: Uint8Array[] = [];
      let waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
      try {
        for (const item of items) {
          if (item.kind === 'record') {
            frames.push(item.frame);
            waiters.push(item);
            continue;
          }
          await this.writeAndSync(frames);
          for (const waiter of waiters) waiter.resolve();
          frames = [];
          waiters = [];
          await this.startNextSegment();
        }
        await this.writeAndSync(frames);
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        this.failure = new WalClosedError(`WAL write failed: ${(error as Error).message}`, { cause: error });
        for (const waiter of waiters) waiter.reject(this.failure);
        for (const item of this.queue.splice(0)) if (item.kind === 'record') item.reject(this.failure);
        return;
      }
    }
  }

  private async writeAndSync(frames: Uint8Array[]): Promise<void> {
    if (frames.length === 0) return;
    await this.handle.writev(frames);
    if (!this.options.isSyncing) return;
    const started = process.hrtime.bigint();
    await this.handle.datasync();
    this.options.onSync?.(Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async startNextSegment(): Promise<void> {
    if (this.options.isSyncing) await this.handle.sync();
    await this.handle.close();
    this.writtenSegment += 1;
    this.handle = await Wal.createSegment(this.directory, this.writtenSegment);
    const reached = this.rotationWaiters.filter((waiter) => waiter.segment <= this.writtenSegment);
    this.rotationWaiters = this.rotationWaiters.filter((waiter) => waiter.segment > this.writtenSegment);
    for (const waiter of reached) waiter.resolve();
  }

  /** Waits for queued records, then closes the segment. Appends after this reject. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    while (this.flushing) await this.flushing;
    this.failure ??= new WalClosedError('WAL closed');
    if (this.options.isSyncing) await this.handle.sync().catch(() => undefined);
    await this.handle.close();
  }
}
