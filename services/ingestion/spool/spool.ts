import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../kit/logger';
import { encodeFrame, scanFrames, type Frame } from './frame';

/**
 * The local spool: an append-only, fsynced backlog of batches the queue could not take (FORMAT.md beside this file).
 * Appends are group-committed (one write and one fdatasync for every append waiting at that moment). The replayer
 * reads the oldest segment, sends it, and acknowledges; fully acknowledged segments are deleted, and the last one is
 * truncated to zero.
 */
export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  segmentBytes: number;
}

interface Segment {
  sequence: number;
  file: string;
  /** Bytes written and synced. */
  size: number;
  /** Bytes already acknowledged by the queue. */
  readPosition: number;
}

interface PendingAppend {
  frame: Buffer;
  resolve(): void;
  reject(error: unknown): void;
}

export interface Backlog {
  sequence: number;
  frames: Frame[];
}

const SEGMENT_PATTERN = /^(\d{20})\.seg$/;
const segmentName = (sequence: number) => `${String(sequence).padStart(20, '0')}.seg`;

export class Spool {
  private segments: Segment[] = [];
  private active: fs.FileHandle | undefined;
  private pending: PendingAppend[] = [];
  private pendingBytes = 0;
  private isWriting = false;
  /** Serialises writes, acknowledgements and truncation. */
  private exclusive: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: SpoolOptions,
    private readonly logger: Logger,
  ) {}

  /** Opens the spool directory, cutting torn or damaged tails so every segment ends on a whole frame. */
  static async open(options: SpoolOptions, logger: Logger): Promise<Spool> {
    const spool = new Spool(options, logger);
    await fs.mkdir(options.dir, { recursive: true });
    for (const name of (await fs.readdir(options.dir)).sort()) {
      const match = SEGMENT_PATTERN.exec(name);
      const file = path.join(options.dir, name);
      if (!match) {
        if (name.endsWith('.tmp')) await fs.rm(file, { force: true });
        continue;
      }
      const bytes = await fs.readFile(file);
      const scan = scanFrames(bytes);
      if (scan.tail !== 'clean') {
        logger[scan.tail === 'torn' ? 'warn' : 'error']('spool segment has a damaged tail; cutting it off', {
          segment: file,
          offset: scan.validLength,
          droppedBytes: bytes.length - scan.validLength,
          tail: scan.tail,
        });
        await fs.truncate(file, scan.validLength);
      }
      spool.segments.push({ sequence: Number(match[1]), file, size: scan.validLength, readPosition: 0 });
    }
    return spool;
  }

  /** Bytes on disk, plus appends waiting for their write. */
  get bytes(): number {
    let total = this.pendingBytes;
    for (const segment of this.segments) total += segment.size;
    return total;
  }

  /** True when nothing is waiting to be replayed or written. */
  get isDrained(): boolean {
    return this.pending.length === 0 && !this.isWriting && this.segments.every((s) => s.readPosition >= s.size);
  }

  /** Appends one batch; resolves once it is on disk (fdatasync), rejects with SpoolFullError when it does not fit. */
  append(payload: Uint8Array, count: number): Promise<void> {
    const frame = encodeFrame(payload, count);
    if (this.bytes + frame.length > this.options.maxBytes)
      return Promise.reject(new SpoolFullError(`spool holds ${this.bytes} of ${this.options.maxBytes} bytes`));
    this.pendingBytes += frame.length;
    const written = new Promise<void>((resolve, reject) => this.pending.push({ frame, resolve, reject }));
    if (!this.isWriting) {
      this.isWriting = true;
      void this.serially(() => this.writePending());
    }
    return written;
  }

  private async writePending(): Promise<void> {
    while (this.pending.length > 0) {
      const group = this.pending;
      this.pending = [];
      const frames = Buffer.concat(group.map((item) => item.frame));
      try {
        const segment = await this.segmentFor(frames.length);
        await this.active!.write(frames, 0, frames.length);
        await this.active!.datasync();
        segment.size += frames.length;
        group.forEach((item) => item.resolve());
      } catch (error) {
        this.logger.error('spool write failed', { error });
        await this.reopenActive();
        group.forEach((item) => item.reject(error));
      } finally {
        this.pendingBytes -= frames.length;
      }
    }
    this.isWriting = false;
  }

  /** The segment to append `length` bytes to, rolling to a new file when the current one is full. */
  private async segmentFor(length: number): Promise<Segment> {
    const last = this.segments[this.segments.length - 1];
    if (last && (last.size === 0 || last.size + length <= this.options.segmentBytes)) {
      this.active ??= await fs.open(last.file, 'a');
      return last;
    }
    await this.active?.close();
    this.active = undefined;
    const sequence = last ? last.sequence + 1 : 1;
    const segment: Segment = {
      sequence,
      file: path.join(this.options.dir, segmentName(sequence)),
      size: 0,
      readPosition: 0,
    };
    this.active = await fs.open(segment.file, 'a');
    await this.syncDirectory();
    this.segments.push(segment);
    return segment;
  }

  /** After a failed write the file may hold a partial frame: cut it back to the last synced size. */
  private async reopenActive(): Promise<void> {
    const last = this.segments[this.segments.length - 1];
    await this.active?.close().catch(() => undefined);
    this.active = undefined;
    if (last) await fs.truncate(last.file, last.size).catch(() => undefined);
  }

  /** The unacknowledged frames of the oldest segment that has any (empty when drained). */
  async readBacklog(): Promise<Backlog | undefined> {
    const segment = this.segments.find((s) => s.readPosition < s.size);
    if (!segment) return undefined;
    const length = segment.size - segment.readPosition;
    const handle = await fs.open(segment.file, 'r');
    try {
      const bytes = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(bytes, 0, length, segment.readPosition);
      const scan = scanFrames(bytes.subarray(0, bytesRead));
      const frames = scan.frames.map((frame) => ({ ...frame, offset: frame.offset + segment.readPosition }));
      return { sequence: segment.sequence, frames };
    } finally {
      await handle.close();
    }
  }

  /** Marks everything before `endOffset` of segment `sequence` as delivered; drops segments that are done. */
  acknowledge(sequence: number, endOffset: number): Promise<void> {
    return this.serially(async () => {
      const segment = this.segments.find((s) => s.sequence === sequence);
      if (!segment) return;
      segment.readPosition = Math.max(segment.readPosition, endOffset);
      if (segment.readPosition < segment.size) return;
      const isLast = segment === this.segments[this.segments.length - 1];
      if (isLast) {
        // The active segment is reused: truncating keeps its name and the directory untouched.
        if (!this.active) this.active = await fs.open(segment.file, 'a');
        await this.active.truncate(0);
        await this.active.datasync();
        segment.size = 0;
        segment.readPosition = 0;
        return;
      }
      await fs.rm(segment.file, { force: true });
      this.segments = this.segments.filter((s) => s !== segment);
      await this.syncDirectory();
    });
  }

  private async syncDirectory(): Promise<void> {
    const directory = await fs.open(this.options.dir, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const result = this.exclusive.then(work);
    this.exclusive = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.serially(async () => {
      await this.active?.close();
      this.active = undefined;
    });
  }
}
