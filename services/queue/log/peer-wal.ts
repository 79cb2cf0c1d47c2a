import fs from 'node:fs';
import path from 'node:path';
import { syncDirectory } from './atomic-file';
import { crc32c } from './crc32c';
import { KIND_CODES, KINDS, readUint64, writeUint64, type LogEntry } from './frame';
import type { SegmentLog } from './segment-log';

/**
 * One write-ahead log for every partition of a peer, so that one fdatasync makes a whole round of appends durable
 * (one per peer, not one per partition). The partitions' segment files take the same entries at once but are only
 * synced at a checkpoint; after a crash, `WalReplay` puts back into them whatever the WAL holds that they lost.
 *
 * Files `<generation, 20 digits>.wal` in `<data-dir>/__wal/`, each a sequence of records (see FORMAT.md):
 *
 * record  := payloadLength u32 | crc32c(payload) u32 | payload
 * payload := type u8 | groupLength u16 | group (UTF-8) | body
 * type 1 (entries): body := count u32 | (index u64 | term u64 | kind u8 | dataLength u32 | data){count}
 * type 2 (reset):   no body; the group's log was replaced, so every earlier record of it is void.
 *
 * A peer always writes a new generation after start; a checkpoint starts the next one, syncs every segment log, then
 * deletes the older generations.
 */
const RecordType = { Entries: 1, Reset: 2 } as const;
const RECORD_HEADER_BYTES = 8;
const ENTRY_HEADER_BYTES = 21;
const MAX_RECORD_BYTES = 256 * 1024 * 1024;
const MAX_SYNCS_IN_FLIGHT = 2;
const FILE_SUFFIX = '.wal';

export const WAL_DIRECTORY = '__wal';

interface WalFile {
  generation: number;
  /** -1 for a file of an earlier run, read at start-up and not open. */
  fd: number;
}

export class PeerWal {
  private active: WalFile;
  /** Generations written before the active one: deleted by the next checkpoint. */
  private retired: WalFile[];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly dirtyFds = new Set<number>();
  private syncsInFlight = 0;
  private readonly waitingForSlot: Array<() => void> = [];
  /** The latest sync started or queued: it covers every record written before it. */
  private lastSync: Promise<void> = Promise.resolve();
  private queuedSync: Promise<void> | undefined;
  private checkpointing: Promise<void> | undefined;
  private readonly syncsAlone = new Set<Promise<void>>();
  private bytesSinceCheckpoint = 0;

  private constructor(
    private readonly directory: string,
    retired: WalFile[],
    retiredBytes: number,
  ) {
    this.retired = retired;
    this.active = this.create((retired.at(-1)?.generation ?? 0) + 1);
    this.bytesSinceCheckpoint = retiredBytes;
  }

  /** Opens the WAL in `directory` and reads what earlier runs left there; a torn record ends its file. */
  static open(directory: string): { wal: PeerWal; replay: WalReplay } {
    fs.mkdirSync(directory, { recursive: true });
    const replay = new WalReplay();
    const retired: WalFile[] = [];
    let retiredBytes = 0;
    for (const name of fs
      .readdirSync(directory)
      .filter((file) => file.endsWith(FILE_SUFFIX))
      .sort()) {
      const file = path.join(directory, name);
      const bytes = fs.readFileSync(file);
      replay.read(bytes);
      retired.push({ generation: Number(name.slice(0, -FILE_SUFFIX.length)), fd: -1 });
      retiredBytes += bytes.length;
    }
    return { wal: new PeerWal(directory, retired, retiredBytes), replay };
  }

  /** Records entries the group just wrote to its segment log; durable after the next `sync()`. */
  append(group: string, entries: readonly LogEntry[]): void {
    let bodyBytes = 4;
    for (const entry of entries) bodyBytes += ENTRY_HEADER_BYTES + entry.data.length;
    const { record, position: start } = this.startRecord(RecordType.Entries, group, bodyBytes);
    let position = start;
    record.writeUInt32LE(entries.length, position);
    position += 4;
    for (const entry of entries) {
      writeUint64(record, entry.index, position);
      writeUint64(record, entry.term, position + 8);
      record[position + 16] = KIND_CODES[entry.kind];
      record.writeUInt32LE(entry.data.length, position + 17);
      record.set(entry.data, position + ENTRY_HEADER_BYTES);
      position += ENTRY_HEADER_BYTES + entry.data.length;
    }
    this.finishRecord(record);
  }

  /** The group's log was replaced (a catch-up, a bootstrap): its earlier records must never be replayed. */
  markReset(group: string): void {
    this.finishRecord(this.startRecord(RecordType.Reset, group, 0).record);
  }

  /**
   * Makes every record so far durable. The callers of one turn of the event loop (a Ready round of every group)
   * share one fdatasync, started once the turn's records are all pending. Up to MAX_SYNCS_IN_FLIGHT run at once, as
   * an fdatasync also waits for the pages an earlier one is still writing; callers beyond that share the next one.
   */
  sync(): Promise<void> {
    if (this.pendingBytes === 0 && this.dirtyFds.size === 0) return this.lastSync;
    if (this.queuedSync) return this.queuedSync;
    const queued = new Promise<void>((resolve, reject) => {
      queueMicrotask(() => this.whenSlotFree(() => this.startSync().then(resolve, reject)));
    });
    this.queuedSync = queued;
    this.lastSync = queued;
    return queued;
  }

  /** Writes what is pending and syncs the active file now, not shared with a sync in flight (`always` policy). */
  async syncAlone(): Promise<void> {
    this.writePending();
    const sync = fdatasync(this.active.fd);
    this.syncsAlone.add(sync);
    try {
      await sync;
    } finally {
      this.syncsAlone.delete(sync);
    }
  }

  /** Whether a checkpoint is due: the WAL outgrew `maxBytes`, or files of an earlier run are still there. */
  isCheckpointDue(maxBytes: number): boolean {
    return !this.checkpointing && (this.bytesSinceCheckpoint >= maxBytes || this.retired.length > 0);
  }

  /**
   * Starts a new generation, waits until `syncLogs` made every segment log durable (they hold all that the older
   * generations hold), then deletes the older generations.
   */
  checkpoint(syncLogs: () => Promise<void>): Promise<void> {
    this.checkpointing ??= this.runCheckpoint(syncLogs).finally(() => (this.checkpointing = undefined));
    return this.checkpointing;
  }

  async close(): Promise<void> {
    await this.checkpointing;
    await this.sync();
    for (const file of [...this.retired, this.active]) if (file.fd >= 0) fs.closeSync(file.fd);
  }

  private whenSlotFree(start: () => void): void {
    if (this.syncsInFlight < MAX_SYNCS_IN_FLIGHT) start();
    else this.waitingForSlot.push(start);
  }

  private startSync(): Promise<void> {
    this.queuedSync = undefined;
    this.writePending();
    const fds = [...this.dirtyFds];
    this.dirtyFds.clear();
    this.syncsInFlight++;
    const finished = () => {
      this.syncsInFlight--;
      this.waitingForSlot.shift()?.();
    };
    const sync = Promise.all(fds.map(fdatasync)).then(() => undefined);
    sync.then(finished, finished);
    return sync;
  }

  private async runCheckpoint(syncLogs: () => Promise<void>): Promise<void> {
    this.writePending();
    const older = [...this.retired, this.active];
    this.active = this.create(this.active.generation + 1);
    this.retired = older;
    this.bytesSinceCheckpoint = 0;
    await this.sync();
    await syncLogs();
    // An fdatasync of the `always` policy may still run on an old descriptor: closing it first could sync another file.
    await Promise.allSettled(this.syncsAlone);
    for (const file of older) {
      if (file.fd >= 0) fs.closeSync(file.fd);
      fs.rmSync(this.pathOf(file.generation), { force: true });
    }
    this.retired = [];
    syncDirectory(this.directory);
  }

  private startRecord(type: number, group: string, bodyBytes: number): { record: Buffer; position: number } {
    const groupBytes = Buffer.byteLength(group, 'utf8');
    const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + 3 + groupBytes + bodyBytes);
    record.writeUInt32LE(record.length - RECORD_HEADER_BYTES, 0);
    record[RECORD_HEADER_BYTES] = type;
    record.writeUInt16LE(groupBytes, RECORD_HEADER_BYTES + 1);
    record.write(group, RECORD_HEADER_BYTES + 3, 'utf8');
    return { record, position: RECORD_HEADER_BYTES + 3 + groupBytes };
  }

  private finishRecord(record: Buffer): void {
    record.writeUInt32LE(crc32c(record, RECORD_HEADER_BYTES, record.length), 4);
    this.pending.push(record);
    this.pendingBytes += record.length;
    this.bytesSinceCheckpoint += record.length;
  }

  private writePending(): void {
    if (this.pendingBytes === 0) return;
    const bytes = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    for (let written = 0; written < bytes.length;)
      written += fs.writeSync(this.active.fd, bytes, written, bytes.length - written);
    this.dirtyFds.add(this.active.fd);
  }

  private create(generation: number): WalFile {
    const fd = fs.openSync(this.pathOf(generation), 'wx');
    syncDirectory(this.directory);
    return { generation, fd };
  }

  private pathOf(generation: number): string {
    return path.join(this.directory, `${String(generation).padStart(20, '0')}${FILE_SUFFIX}`);
  }
}

/** What the WAL files held at start-up, per group: the entry runs written since the group's last reset. */
export class WalReplay {
  private readonly runs = new Map<string, LogEntry[][]>();

  /** Reads one file's records in order; stops at the first torn or damaged one (never acknowledged). */
  read(bytes: Buffer): void {
    for (let position = 0; position + RECORD_HEADER_BYTES <= bytes.length;) {
      const length = bytes.readUInt32LE(position);
      const end = position + RECORD_HEADER_BYTES + length;
      if (length < 3 || length > MAX_RECORD_BYTES || end > bytes.length) return;
      if (crc32c(bytes, position + RECORD_HEADER_BYTES, end) !== bytes.readUInt32LE(position + 4)) return;
      if (!this.readRecord(bytes.subarray(position + RECORD_HEADER_BYTES, end))) return;
      position = end;
    }
  }

  /**
   * Puts back into `log` what it lost and the WAL holds: each run is appended from its first entry the log lacks or
   * holds with another term (the log's own truncation rule). A run that would leave a gap was never acknowledged (a
   * later sync died with the peer) and is skipped. Answers how many entries were appended.
   */
  replayInto(group: string, log: SegmentLog): number {
    let appended = 0;
    for (const run of this.runs.get(group) ?? []) {
      const kept = run.filter((entry) => entry.index >= log.firstIndex());
      if (kept.length === 0 || kept[0].index > log.lastIndex() + 1) continue;
      const missing = kept.findIndex((entry) => entry.index > log.lastIndex() || log.term(entry.index) !== entry.term);
      if (missing < 0) continue;
      log.append(kept.slice(missing));
      appended += kept.length - missing;
    }
    return appended;
  }

  private readRecord(payload: Buffer): boolean {
    const type = payload[0];
    const groupEnd = 3 + payload.readUInt16LE(1);
    if (groupEnd > payload.length) return false;
    const group = payload.toString('utf8', 3, groupEnd);
    if (type === RecordType.Reset) {
      this.runs.delete(group);
      return true;
    }
    if (type !== RecordType.Entries) return false;
    const entries = decodeEntries(payload, groupEnd);
    if (!entries) return false;
    const runs = this.runs.get(group);
    if (runs) runs.push(entries);
    else this.runs.set(group, [entries]);
    return true;
  }
}

function decodeEntries(payload: Buffer, start: number): LogEntry[] | undefined {
  if (start + 4 > payload.length) return undefined;
  const count = payload.readUInt32LE(start);
  const entries: LogEntry[] = [];
  let position = start + 4;
  for (let number = 0; number < count; number++) {
    if (position + ENTRY_HEADER_BYTES > payload.length) return undefined;
    const kind = KINDS[payload[position + 16]];
    const dataEnd = position + ENTRY_HEADER_BYTES + payload.readUInt32LE(position + 17);
    if (kind === undefined || dataEnd > payload.length) return undefined;
    entries.push({
      index: readUint64(payload, position),
      term: readUint64(payload, position + 8),
      kind,
      data: payload.subarray(position + ENTRY_HEADER_BYTES, dataEnd),
    });
    position = dataEnd;
  }
  return position === payload.length ? entries : undefined;
}

function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}
