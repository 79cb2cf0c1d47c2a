import fs from 'node:fs';
import path from 'node:path';
import { CompactedError, CorruptionError } from '../errors';
import { removeTemporaryFiles, syncDirectoryAsync, writeFileAtomic } from './atomic-file';
import {
  FrameDecoder,
  encodeFrames,
  readFrame,
  recordsIn,
  type LogEntry,
  type StoredEntry,
  FRAME_HEADER_BYTES,
  frameSize,
} from './frame';
import { forEachRecord } from './record-batch';

/**
 * The segmented log of one partition: the Raft log and, through each entry's records, the client messages.
 * Layout and recovery rules: FORMAT.md. Writes go to the page cache synchronously; `sync()` makes them durable
 * (at sealing, at a WAL checkpoint and at close: the peer WAL is what acknowledgements wait for). Reads check every
 * frame's CRC, so damaged bytes are never served.
 */
export interface SegmentLogOptions {
  directory: string;
  /** A segment is sealed and a new one started once it reaches this size. */
  segmentBytes: number;
  /** Spacing of the sparse index points within a segment. */
  indexIntervalBytes?: number;
  /** Membership of a brand-new log (the configured peers); afterwards the log's own start point and config entries rule. */
  initialMembers?: readonly string[];
  /** Folds one configuration entry into a membership (Raft's rule), so retention can move the start point past it. */
  applyConfig?: (members: readonly string[], data: Uint8Array) => string[];
}

/** The entry just before the first retained one: what Raft calls the snapshot point. */
export interface LogStart {
  index: number;
  term: number;
  /** Client offset of the first record after `index`. */
  nextOffset: number;
  /** Raft membership in effect after `index`. */
  members: string[];
}

export interface ConsumedRecord {
  offset: number;
  key: string;
  value: Uint8Array;
  timestamp: number;
}

export interface RecoveryReport {
  segments: number;
  /** Bytes cut from a torn tail, 0 when the log was clean. */
  truncatedBytes: number;
}

interface Segment {
  readonly firstIndex: number;
  readonly path: string;
  fd: number;
  size: number;
  lastIndex: number;
  firstOffset: number;
  nextOffset: number;
  /** Sparse index points, parallel arrays sorted by position. */
  pointIndexes: number[];
  pointOffsets: number[];
  pointPositions: number[];
  lastPointPosition: number;
  modifiedMs: number;
}

interface TermRun {
  index: number;
  term: number;
}

const SEGMENT_SUFFIX = '.log';
const START_FILE = 'log-start.json';
const READ_CHUNK_BYTES = 256 * 1024;

const itself = (value: number) => value;

const segmentName = (firstIndex: number) => `${String(firstIndex).padStart(20, '0')}${SEGMENT_SUFFIX}`;

/** Last position in a sorted array whose key is <= target, or -1. */
function floorSearch<T>(values: readonly T[], target: number, keyOf: (value: T) => number): number {
  let low = 0;
  let high = values.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (keyOf(values[middle]) <= target) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

export class SegmentLog {
  private readonly segments: Segment[] = [];
  private start: LogStart = { index: 0, term: 0, nextOffset: 0, members: [] };
  private termRuns: TermRun[] = [];
  /** Configuration entries after the start point (rare: one per membership change). */
  private configEntries: Array<{ index: number; data: Uint8Array }> = [];
  private readonly dirtyFds = new Set<number>();
  private isDirectoryDirty = false;
  private pendingSync: Promise<void> | undefined;
  private queuedSync: Promise<void> | undefined;
  private readonly indexIntervalBytes: number;
  private isClosed = false;
  readonly recovery: RecoveryReport;

  private constructor(
    private readonly options: SegmentLogOptions,
    private readonly clock: () => number,
  ) {
    this.indexIntervalBytes = options.indexIntervalBytes ?? 4096;
    this.recovery = this.recover();
  }

  static open(options: SegmentLogOptions, clock: () => number = Date.now): SegmentLog {
    return new SegmentLog(options, clock);
  }

  // ---- RaftStorage-style reads ----

  firstIndex(): number {
    return this.start.index + 1;
  }

  lastIndex(): number {
    const last = this.segments.at(-1);
    return last && last.lastIndex >= last.firstIndex ? last.lastIndex : this.start.index;
  }

  logStart(): LogStart {
    return { ...this.start, members: [...this.start.members] };
  }

  /** Term of the entry at `index`; the start point's term is known, anything before it is compacted. */
  term(index: number): number {
    if (index < this.start.index) throw new CompactedError(index, this.firstIndex());
    if (index > this.lastIndex()) throw new RangeError(`index ${index} is past the last index ${this.lastIndex()}`);
    if (index === this.start.index) return this.start.term;
    return this.termRuns[floorSearch(this.termRuns, index, (run) => run.index)].term;
  }

  /** Entries `[lo, hi)`, at least one when the range is not empty, then up to `maxBytes` of data in total. */
  entries(lo: number, hi: number, maxBytes = Infinity): StoredEntry[] {
    if (lo < this.firstIndex()) throw new CompactedError(lo, this.firstIndex());
    if (hi > this.lastIndex() + 1)
      throw new RangeError(`entries up to ${hi - 1} past the last index ${this.lastIndex()}`);
    const result: StoredEntry[] = [];
    let bytes = 0;
    let segmentNumber = this.segmentHoldingIndex(lo);
    while (lo < hi && segmentNumber < this.segments.length) {
      const segment = this.segments[segmentNumber];
      const point = floorSearch(segment.pointIndexes, lo, itself);
      this.scanSegment(segment, point < 0 ? 0 : segment.pointPositions[point], (entry) => {
        if (entry.index < lo) return true;
        if (entry.index >= hi) return false;
        bytes += entry.data.length;
        if (result.length > 0 && bytes > maxBytes) {
          hi = entry.index;
          return false;
        }
        result.push(entry);
        lo = entry.index + 1;
        return true;
      });
      segmentNumber++;
    }
    return result;
  }

  // ---- client offsets ----

  /** First client offset still retained. */
  startOffset(): number {
    return this.start.nextOffset;
  }

  /** Client offset just after the last record in the log. */
  nextOffset(): number {
    const last = this.segments.at(-1);
    return last && last.lastIndex >= last.firstIndex ? last.nextOffset : this.start.nextOffset;
  }

  /** Client offset just after the records of the entries up to `index` (inclusive). */
  nextOffsetAfter(index: number): number {
    if (index === this.start.index) return this.start.nextOffset;
    const [entry] = this.entries(index, index + 1);
    return entry.baseOffset + recordsIn(entry);
  }

  /**
   * Records from `offset`, at most `maxCount` and about `maxBytes` of values, only from entries up to
   * `lastReadableIndex` (the commit index: nothing uncommitted is ever read).
   */
  readRecords(offset: number, maxCount: number, maxBytes: number, lastReadableIndex: number): ConsumedRecord[] {
    if (offset < this.start.nextOffset) throw new CompactedError(offset, this.start.nextOffset);
    const records: ConsumedRecord[] = [];
    let bytes = 0;
    let segmentNumber = floorSearch(this.segments, offset, (segment) => segment.firstOffset);
    // Several segments may start at the same offset (runs of no-op entries); the first of them holds the records.
    while (
      segmentNumber > 0 &&
      this.segments[segmentNumber - 1].firstOffset === this.segments[segmentNumber].firstOffset
    )
      segmentNumber--;
    if (segmentNumber < 0) segmentNumber = 0;
    let isDone = false;
    while (!isDone && segmentNumber < this.segments.length) {
      const segment = this.segments[segmentNumber];
      if (segment.nextOffset <= offset || segment.lastIndex < segment.firstIndex) {
        segmentNumber++;
        continue;
      }
      const point = floorSearch(segment.pointOffsets, offset, itself);
      this.scanSegment(segment, point < 0 ? 0 : segment.pointPositions[point], (entry) => {
        if (entry.index > lastReadableIndex) {
          isDone = true;
          return false;
        }
        const count = recordsIn(entry);
        if (entry.baseOffset + count <= offset) return true;
        forEachRecord(entry.data, offset - entry.baseOffset, (key, value, timestamp) => {
          records.push({ offset, key, value, timestamp });
          bytes += value.length;
          offset++;
          return records.length < maxCount && bytes < maxBytes;
        });
        isDone = records.length >= maxCount || bytes >= maxBytes;
        return !isDone;
      });
      segmentNumber++;
    }
    return records;
  }

  // ---- writes ----

  /**
   * Appends entries in index order. An entry at or below the last index first truncates the log from there (a Raft
   * conflict); each entry's base offset follows from the entry before it. Durable only after `sync()`.
   */
  append(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    const first = entries[0].index;
    if (first <= this.start.index) throw new CompactedError(first, this.firstIndex());
    if (first > this.lastIndex() + 1)
      throw new RangeError(`append at ${first} leaves a gap after the last index ${this.lastIndex()}`);
    if (first <= this.lastIndex()) this.truncateSuffix(first);
    let nextOffset = this.nextOffset();
    const stored: StoredEntry[] = entries.map((entry) => {
      const baseOffset = nextOffset;
      nextOffset += recordsIn(entry);
      return { index: entry.index, term: entry.term, kind: entry.kind, data: entry.data, baseOffset };
    });
    let from = 0;
    while (from < stored.length) {
      const segment = this.activeSegmentFor(stored[from].index);
      let to = from;
      let bytes = 0;
      do bytes += frameSize(stored[to++]);
      while (to < stored.length && segment.size + bytes < this.options.segmentBytes);
      this.writeToSegment(segment, stored.slice(from, to));
      from = to;
    }
  }

  /** Removes every entry from `fromIndex` on (a Raft log conflict). */
  truncateSuffix(fromIndex: number): void {
    if (fromIndex <= this.start.index) throw new CompactedError(fromIndex, this.firstIndex());
    if (fromIndex > this.lastIndex()) return;
    while (this.segments.length > 1 && this.segments.at(-1)!.firstIndex >= fromIndex)
      this.dropSegment(this.segments.length - 1);
    const segment = this.segments.at(-1)!;
    let cutPosition = segment.size;
    let lastKept: StoredEntry | undefined;
    const point = floorSearch(segment.pointIndexes, fromIndex - 1, itself);
    this.scanSegment(segment, point < 0 ? 0 : segment.pointPositions[point], (entry, position) => {
      if (entry.index >= fromIndex) {
        cutPosition = position;
        return false;
      }
      lastKept = entry;
      return true;
    });
    fs.ftruncateSync(segment.fd, cutPosition);
    this.dirtyFds.add(segment.fd);
    segment.size = cutPosition;
    segment.lastIndex = fromIndex - 1;
    segment.nextOffset = lastKept ? lastKept.baseOffset + recordsIn(lastKept) : segment.firstOffset;
    while (segment.pointPositions.length > 0 && segment.pointPositions.at(-1)! >= cutPosition) {
      segment.pointPositions.pop();
      segment.pointIndexes.pop();
      segment.pointOffsets.pop();
    }
    segment.lastPointPosition = segment.pointPositions.at(-1) ?? -Infinity;
    while (this.termRuns.length > 0 && this.termRuns.at(-1)!.index >= fromIndex) this.termRuns.pop();
    while (this.configEntries.length > 0 && this.configEntries.at(-1)!.index >= fromIndex) this.configEntries.pop();
  }

  /**
   * Makes every write so far durable: one fdatasync per file written since the last sync (plus the directory when a
   * segment was created). Concurrent callers share the sync in flight and the one after it.
   */
  sync(): Promise<void> {
    if (this.dirtyFds.size === 0 && !this.isDirectoryDirty) return this.pendingSync ?? Promise.resolve();
    // A sync that has not started yet takes every write made before it starts: later callers just join it.
    if (this.queuedSync) return this.queuedSync;
    const previous = this.pendingSync ?? Promise.resolve();
    const current = previous.then(async () => {
      this.queuedSync = undefined;
      const fds = [...this.dirtyFds];
      const isDirectoryDirty = this.isDirectoryDirty;
      this.dirtyFds.clear();
      this.isDirectoryDirty = false;
      await Promise.all(
        fds.map(
          (fd) =>
            new Promise<void>((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve()))),
        ),
      );
      if (isDirectoryDirty) await syncDirectoryAsync(this.options.directory);
    });
    this.queuedSync = current;
    this.pendingSync = current;
    const clear = () => {
      if (this.pendingSync === current) this.pendingSync = undefined;
    };
    current.then(clear, clear);
    return current;
  }

  /** An fdatasync of the active segment started now, not shared with one in flight (the `always` policy). */
  async syncAlone(): Promise<void> {
    await this.sync();
    const active = this.segments.at(-1);
    if (active)
      await new Promise<void>((resolve, reject) =>
        fs.fdatasync(active.fd, (error) => (error ? reject(error) : resolve())),
      );
  }

  get hasUnsyncedWrites(): boolean {
    return this.dirtyFds.size > 0 || this.isDirectoryDirty || this.queuedSync !== undefined;
  }

  /** Bytes held on disk by the segments. */
  sizeBytes(): number {
    return this.segments.reduce((total, segment) => total + segment.size, 0);
  }

  /**
   * Deletes whole sealed segments, oldest first, while the log is larger than `maxBytes` or the segment's last write
   * is older than `maxAgeMs`; never one holding an entry after `keepFromIndex` (not yet committed everywhere it must be).
   */
  applyRetention(limits: { maxBytes?: number; maxAgeMs?: number }, keepFromIndex: number): number {
    let size = this.sizeBytes();
    let removable = 0;
    const now = this.clock();
    while (removable < this.segments.length - 1) {
      const segment = this.segments[removable];
      const isTooBig = limits.maxBytes !== undefined && size > limits.maxBytes;
      const isTooOld = limits.maxAgeMs !== undefined && now - segment.modifiedMs > limits.maxAgeMs;
      if ((!isTooBig && !isTooOld) || segment.lastIndex >= keepFromIndex) break;
      size -= segment.size;
      removable++;
    }
    if (removable === 0) return 0;
    const lastRemoved = this.segments[removable - 1];
    // The new start point is written before any file goes, so a crash in between leaves only stale files to ignore.
    let members = this.start.members;
    const applyConfig = this.options.applyConfig ?? ((current: readonly string[]) => [...current]);
    for (const entry of this.configEntries)
      if (entry.index <= lastRemoved.lastIndex) members = applyConfig(members, entry.data);
    this.configEntries = this.configEntries.filter((entry) => entry.index > lastRemoved.lastIndex);
    this.writeStart({
      index: lastRemoved.lastIndex,
      term: this.term(lastRemoved.lastIndex),
      nextOffset: lastRemoved.nextOffset,
      members,
    });
    for (let count = 0; count < removable; count++) this.dropSegment(0);
    this.termRuns = this.termRuns.filter(
      (_run, position, runs) => position + 1 === runs.length || runs[position + 1].index > this.start.index + 1,
    );
    return removable;
  }

  /**
   * Replaces the whole log with an empty one that starts after `start` (a follower too far behind, caught up from the
   * leader's segments): everything local is discarded.
   */
  resetTo(start: LogStart): void {
    while (this.segments.length > 0) this.dropSegment(this.segments.length - 1);
    this.writeStart(start);
    this.termRuns = [];
    this.configEntries = [];
  }

  close(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    this.isClosed = true;
    return this.sync().finally(() => {
      for (const segment of this.segments) fs.closeSync(segment.fd);
    });
  }

  /** Closes the files at once, without a final sync (the log is being discarded). */
  closeNow(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const segment of this.segments) this.dropDescriptor(segment.fd);
  }

  // ---- internals ----

  private segmentHoldingIndex(index: number): number {
    return Math.max(
      0,
      floorSearch(this.segments, index, (segment) => segment.firstIndex),
    );
  }

  /** Visits the frames of a segment from `position`, checking each CRC; stops when `visit` returns false. */
  private scanSegment(
    segment: Segment,
    position: number,
    visit: (entry: StoredEntry, position: number) => boolean,
  ): void {
    let chunkBytes = READ_CHUNK_BYTES;
    while (position < segment.size) {
      // A fresh buffer per read: entries handed to `visit` are views into it and may outlive this scan.
      const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, segment.size - position));
      const bytesRead = fs.readSync(segment.fd, buffer, 0, buffer.length, position);
      const chunk = buffer.subarray(0, bytesRead);
      let cursor = 0;
      while (cursor < chunk.length) {
        const read = readFrame(chunk, cursor);
        if (read.kind === 'damaged') throw new CorruptionError(segment.path, position + cursor, read.reason);
        if (read.kind === 'incomplete') {
          if (position + cursor + read.needed > segment.size)
            throw new CorruptionError(segment.path, position + cursor, 'frame runs past the end of the segment');
          if (cursor === 0) chunkBytes = Math.max(read.needed, chunkBytes * 2);
          break;
        }
        if (!visit(read.entry, position + cursor)) return;
        cursor = read.end;
      }
      position += cursor;
    }
  }

  private activeSegmentFor(index: number): Segment {
    const last = this.segments.at(-1);
    if (last && last.size < this.options.segmentBytes) return last;
    if (last) {
      // A sealed segment is durable before the next one exists: damage can then only ever be in the last segment's
      // tail after a crash, and anything else is real corruption.
      fs.fdatasyncSync(last.fd);
      this.dirtyFds.delete(last.fd);
    }
    return this.createSegment(index, last ? last.nextOffset : this.start.nextOffset);
  }

  private createSegment(firstIndex: number, firstOffset: number): Segment {
    const file = path.join(this.options.directory, segmentName(firstIndex));
    const fd = fs.openSync(file, 'w+');
    const segment: Segment = {
      firstIndex,
      path: file,
      fd,
      size: 0,
      lastIndex: firstIndex - 1,
      firstOffset,
      nextOffset: firstOffset,
      pointIndexes: [],
      pointOffsets: [],
      pointPositions: [],
      lastPointPosition: -Infinity,
      modifiedMs: this.clock(),
    };
    this.segments.push(segment);
    this.isDirectoryDirty = true;
    return segment;
  }

  private writeToSegment(segment: Segment, entries: readonly StoredEntry[]): void {
    const bytes = encodeFrames(entries);
    fs.writeSync(segment.fd, bytes, 0, bytes.length, segment.size);
    this.dirtyFds.add(segment.fd);
    let position = segment.size;
    for (const entry of entries) {
      this.noteEntry(segment, entry, position);
      position += frameSize(entry);
    }
    segment.size = position;
    segment.modifiedMs = this.clock();
  }

  private noteEntry(segment: Segment, entry: StoredEntry, position: number): void {
    if (position - segment.lastPointPosition >= this.indexIntervalBytes) {
      segment.pointIndexes.push(entry.index);
      segment.pointOffsets.push(entry.baseOffset);
      segment.pointPositions.push(position);
      segment.lastPointPosition = position;
    }
    if (segment.lastIndex < segment.firstIndex) segment.firstOffset = entry.baseOffset;
    segment.lastIndex = entry.index;
    segment.nextOffset = entry.baseOffset + recordsIn(entry);
    if (this.termRuns.length === 0 || this.termRuns.at(-1)!.term !== entry.term)
      this.termRuns.push({ index: entry.index, term: entry.term });
    if (entry.kind === 'config') this.configEntries.push({ index: entry.index, data: Buffer.from(entry.data) });
  }

  private dropSegment(position: number): void {
    const [segment] = this.segments.splice(position, 1);
    this.dropDescriptor(segment.fd);
    fs.rmSync(segment.path, { force: true });
    this.isDirectoryDirty = true;
  }

  private dropDescriptor(fd: number): void {
    const close = () => fs.closeSync(fd);
    // An fdatasync may be in flight on this descriptor; closing it first could sync a reused descriptor instead.
    if (this.pendingSync) this.pendingSync.then(close, close);
    else close();
    this.dirtyFds.delete(fd);
  }

  private writeStart(start: LogStart): void {
    writeFileAtomic(path.join(this.options.directory, START_FILE), JSON.stringify(start));
    this.start = { ...start, members: [...start.members] };
  }

  private recover(): RecoveryReport {
    const directory = this.options.directory;
    fs.mkdirSync(directory, { recursive: true });
    removeTemporaryFiles(directory);
    const startFile = path.join(directory, START_FILE);
    if (fs.existsSync(startFile)) this.start = JSON.parse(fs.readFileSync(startFile, 'utf8')) as LogStart;
    else this.writeStart({ index: 0, term: 0, nextOffset: 0, members: [...(this.options.initialMembers ?? [])] });
    const names = fs
      .readdirSync(directory)
      .filter((name) => /^\d{20}\.log$/.test(name))
      .sort();
    const firstIndexes = names.map((name) => Number(name.slice(0, 20)));
    let truncatedBytes = 0;
    for (let position = 0; position < names.length; position++) {
      const file = path.join(directory, names[position]);
      const isStale = position + 1 < names.length ? firstIndexes[position + 1] <= this.start.index + 1 : false;
      if (isStale || (position + 1 === names.length && firstIndexes[position] <= this.start.index)) {
        fs.rmSync(file);
        continue;
      }
      truncatedBytes += this.recoverSegment(file, firstIndexes[position], position + 1 === names.length);
    }
    if (truncatedBytes > 0) this.isDirectoryDirty = true;
    return { segments: this.segments.length, truncatedBytes };
  }

  /** Rebuilds one segment's sparse index, verifying every frame; returns the bytes cut from a torn tail. */
  private recoverSegment(file: string, firstIndex: number, isLast: boolean): number {
    const fd = fs.openSync(file, 'r+');
    const size = fs.fstatSync(fd).size;
    const previous = this.segments.at(-1);
    const expectedIndex = previous ? previous.lastIndex + 1 : this.start.index + 1;
    if (firstIndex !== expectedIndex) {
      fs.closeSync(fd);
      throw new CorruptionError(file, 0, `segment starts at index ${firstIndex}, expected ${expectedIndex}`);
    }
    const firstOffset = previous ? previous.nextOffset : this.start.nextOffset;
    const segment: Segment = {
      firstIndex,
      path: file,
      fd,
      size: 0,
      lastIndex: firstIndex - 1,
      firstOffset,
      nextOffset: firstOffset,
      pointIndexes: [],
      pointOffsets: [],
      pointPositions: [],
      lastPointPosition: -Infinity,
      modifiedMs: fs.fstatSync(fd).mtimeMs,
    };
    const decoder = new FrameDecoder();
    const buffer = Buffer.allocUnsafe(1024 * 1024);
    let damage: { position: number; reason: string; declaredEnd: number } | undefined;
    for (let position = 0; position < size && !damage;) {
      const bytesRead = fs.readSync(fd, buffer, 0, Math.min(buffer.length, size - position), position);
      position += bytesRead;
      for (const frame of decoder.push(buffer.subarray(0, bytesRead))) {
        const expectedOffset = segment.nextOffset;
        if (frame.entry.index !== segment.lastIndex + 1 || frame.entry.baseOffset !== expectedOffset) {
          damage = { position: frame.position, reason: 'entry out of sequence', declaredEnd: -1 };
          break;
        }
        this.noteEntry(segment, frame.entry, frame.position);
      }
      damage ??= decoder.damage;
    }
    const goodEnd = damage ? damage.position : decoder.position;
    if (goodEnd < size) {
      const isTornTail = isLast && !(damage && this.hasValidFrameAt(fd, damage.declaredEnd, size));
      if (!isTornTail) {
        fs.closeSync(fd);
        throw new CorruptionError(file, goodEnd, damage?.reason ?? 'frame runs past the end of the segment');
      }
      fs.ftruncateSync(fd, goodEnd);
      fs.fdatasyncSync(fd);
    }
    segment.size = goodEnd;
    this.segments.push(segment);
    return size - goodEnd;
  }

  /** Whether a whole valid frame starts at `position`: damage followed by good data is not a torn tail. */
  private hasValidFrameAt(fd: number, position: number, size: number): boolean {
    if (position < 0 || position + FRAME_HEADER_BYTES > size) return false;
    const bytes = Buffer.allocUnsafe(size - position);
    fs.readSync(fd, bytes, 0, bytes.length, position);
    return readFrame(bytes, 0).kind === 'frame';
  }
}
