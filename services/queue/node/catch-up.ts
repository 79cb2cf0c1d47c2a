import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import type { Logger } from '../../kit/logger';
import { syncDirectory } from '../log/atomic-file';
import { FrameDecoder, encodeFrames } from '../log/frame';
import { SegmentLog, type LogStart } from '../log/segment-log';
import type { CatchUpRequest, SnapshotMetadata, SnapshotRequest } from '../raft/types';
import type { Partition } from './partition';

/**
 * Catch-up of a follower that needs entries the leader no longer has (retention deleted them), from the leader's
 * segment files. The leader tells the follower (`POST /v1/internal/catch-up`); the follower pulls the leader's
 * retained log up to the catch-up point (`GET /v1/internal/log`), stages it in `<partition>/catch-up/`, then steps
 * the leader's snapshot message. When its core answers with Ready.snapshot, the staged log replaces the partition's.
 *
 * stream := headerLength u32 LE | header (JSON LogStart of the leader) | frames (FORMAT.md) up to the catch-up index
 */
const STAGE_DIRECTORY = 'catch-up';
const CHUNK_BYTES = 1024 * 1024;

export interface CatchUpNotice {
  topic: string;
  partition: number;
  leaderUrl: string;
  message: SnapshotRequest;
}

interface Stepper {
  stepCatchUpMessage(partition: Partition, message: SnapshotRequest): void;
  peerUrl(id: string): string | undefined;
}

export class CatchUpStager {
  private readonly staged = new Map<string, { index: number; term: number }>();
  private readonly inProgress = new Set<string>();

  constructor(
    private readonly selfUrl: string,
    private readonly directoryOf: (partition: Partition) => string,
    private readonly segmentBytes: number,
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    /** Folds a configuration entry into a membership, so retention can later move the installed log's start. */
    private readonly applyConfig?: (members: readonly string[], data: Uint8Array) => string[],
  ) {}

  /**
   * Leader: tell `request.peer` to pull this partition's log up to the catch-up point. `onFailure` runs when the peer
   * could not be told (the core then starts a new catch-up on the next heartbeat answer).
   */
  stream(partition: Partition, request: CatchUpRequest, stepper: Stepper, onFailure: () => void): void {
    const url = stepper.peerUrl(request.peer);
    if (!url) {
      onFailure();
      return;
    }
    const notice: CatchUpNotice = {
      topic: partition.topic,
      partition: partition.partition,
      leaderUrl: this.selfUrl,
      message: request.message,
    };
    this.logger.info('catching a follower up from the segment files', {
      partition: partition.key,
      peer: request.peer,
      fromIndex: request.fromIndex,
      upTo: request.message.snapshot.index,
    });
    fetch(`${url}/v1/internal/catch-up`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(notice),
      signal: AbortSignal.timeout(this.timeoutMs),
    })
      .then(async (response) => {
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`peer answered ${response.status}`);
      })
      .catch((error: unknown) => {
        this.logger.warn('catch-up notice failed', { partition: partition.key, error: (error as Error).message });
        onFailure();
      });
  }

  /** Leader: serves `GET /v1/internal/log`: its retained log from the first index through `upTo`. */
  async serveLog(partition: Partition, upTo: number, res: http.ServerResponse): Promise<void> {
    const log = partition.log;
    const header = Buffer.from(JSON.stringify(log.logStart()), 'utf8');
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32LE(header.length, 0);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.write(Buffer.concat([length, header]));
    for (let next = log.firstIndex(); next <= upTo;) {
      const entries = log.entries(next, upTo + 1, CHUNK_BYTES);
      if (!res.write(encodeFrames(entries))) await new Promise((resolve) => res.once('drain', resolve));
      next = entries.at(-1)!.index + 1;
    }
    res.end();
  }

  /** Follower: pull and stage the leader's log, then step the leader's message. Runs in the background. */
  accept(partition: Partition, notice: CatchUpNotice, stepper: Stepper): void {
    if (this.inProgress.has(partition.key)) return;
    this.inProgress.add(partition.key);
    this.pull(partition, notice)
      .then(() => stepper.stepCatchUpMessage(partition, notice.message))
      .catch((error: unknown) =>
        this.logger.warn('catch-up failed; the leader will retry', {
          partition: partition.key,
          error: (error as Error).message,
        }),
      )
      .finally(() => this.inProgress.delete(partition.key));
  }

  /** Follower, from the Ready loop: replace the partition's log with the staged one; returns the new log. */
  install(partition: Partition, snapshot: SnapshotMetadata): SegmentLog {
    const staged = this.staged.get(partition.key);
    if (!staged || staged.index !== snapshot.index || staged.term !== snapshot.term)
      throw new Error(`${partition.key}: no staged catch-up for index ${snapshot.index}`);
    this.staged.delete(partition.key);
    const directory = this.directoryOf(partition);
    const stage = path.join(directory, STAGE_DIRECTORY);
    partition.log.resetTo({ index: 0, term: 0, nextOffset: 0, members: [] });
    partition.log.closeNow();
    for (const name of fs.readdirSync(stage)) fs.renameSync(path.join(stage, name), path.join(directory, name));
    syncDirectory(directory);
    fs.rmSync(stage, { recursive: true, force: true });
    return SegmentLog.open({ directory, segmentBytes: this.segmentBytes, applyConfig: this.applyConfig });
  }

  private async pull(partition: Partition, notice: CatchUpNotice): Promise<void> {
    const upTo = notice.message.snapshot.index;
    const query = new URLSearchParams({ topic: notice.topic, partition: String(notice.partition), to: String(upTo) });
    const response = await fetch(`${notice.leaderUrl}/v1/internal/log?${query}`, {
      signal: AbortSignal.timeout(this.timeoutMs * 10),
    });
    if (!response.ok || !response.body) throw new Error(`leader answered ${response.status}`);
    const stage = path.join(this.directoryOf(partition), STAGE_DIRECTORY);
    fs.rmSync(stage, { recursive: true, force: true });
    let log: SegmentLog | undefined;
    let header = Buffer.alloc(0);
    const decoder = new FrameDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        let bytes = Buffer.from(chunk);
        if (!log) {
          header = Buffer.concat([header, bytes]);
          if (header.length < 4 || header.length < 4 + header.readUInt32LE(0)) continue;
          const headerLength = header.readUInt32LE(0);
          const start = JSON.parse(header.toString('utf8', 4, 4 + headerLength)) as LogStart;
          log = SegmentLog.open({ directory: stage, segmentBytes: this.segmentBytes, initialMembers: start.members });
          log.resetTo(start);
          bytes = header.subarray(4 + headerLength);
        }
        const frames = decoder.push(bytes);
        if (decoder.damage) throw new Error(`damaged catch-up stream: ${decoder.damage.reason}`);
        if (frames.length === 0) continue;
        const expectedOffset = log.nextOffset();
        if (frames[0].entry.baseOffset !== expectedOffset)
          throw new Error(`catch-up stream offset ${frames[0].entry.baseOffset}, expected ${expectedOffset}`);
        log.append(frames.map((frame) => frame.entry));
      }
      if (!log || log.lastIndex() !== upTo || decoder.pendingBytes > 0)
        throw new Error(`catch-up stream ended at ${log?.lastIndex()} before ${upTo}`);
      await log.close();
      log = undefined;
      this.staged.set(partition.key, { index: upTo, term: notice.message.snapshot.term });
    } finally {
      if (log) await log.close();
    }
  }
}
