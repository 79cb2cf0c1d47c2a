import path from 'node:path';
import { ApiError } from '../../kit/errors';
import type { Logger } from '../../kit/logger';
import { CompactedError, noQuorum, notLeader, offsetOutOfRange, unknownPartition, unknownTopic } from '../errors';
import type { ForwardedPart } from '../api/produce-batch';
import { renderConsumeBody } from '../api/render';
import type { CommitRequest, ConsumeRequest, ProduceRecord } from '../api/requests';
import { encodeRecordBatch, type QueueRecord } from '../log/record-batch';
import { readHardState } from '../log/hard-state';
import { SegmentLog } from '../log/segment-log';
import { partitionOf } from '../topics/partitioner';
import { OFFSETS_TOPIC, type TopicSpec } from '../topics/topics';
import { ConsumerOffsets } from './consumer-offsets';
import { AppendForwarder, type ForwardResult } from './forwarder';
import type { QueueMetrics } from './metrics';
import { Partition, ProposalDroppedError } from './partition';
import type { PartitionStatus, PeerInfo, Replication } from './replication';

/**
 * One queue peer: every partition's log and state, and the request logic that does not care how entries are
 * replicated: partitioning, batching per partition, forwarding to a partition's leader, deadlines.
 */
export interface QueueNodeOptions {
  dataDir: string;
  topics: readonly TopicSpec[];
  segmentBytes: number;
  /** Configured peers, the membership of a brand-new partition. */
  initialMembers: readonly string[];
  applyConfig?: (members: readonly string[], data: Uint8Array) => string[];
  requestTimeoutMs: number;
  maxConsumeBytes: number;
  /** Puts back what the peer's WAL holds and the partition's segment files lost; answers the entries restored. */
  replayWal?: (partitionKey: string, log: SegmentLog) => number;
  logger: Logger;
  metrics: QueueMetrics;
  now?: () => number;
}

export interface ClusterView {
  peers: PeerInfo[];
  partitions: Array<
    { topic: string; partition: number; commit_index: number } & Omit<PartitionStatus, 'members'> & {
        members: string[];
      }
  >;
}

const RETRY_MS = 25;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const partitionDirectory = (dataDir: string, topic: string, partition: number) =>
  path.join(dataDir, topic, String(partition));

export class QueueNode {
  readonly partitions = new Map<string, Partition>();
  readonly offsets = new ConsumerOffsets();
  private replicationRef: Replication | undefined;
  private readonly now: () => number;
  private roundRobin = 0;
  private readonly forwarder = new AppendForwarder(() => this.now());

  constructor(private readonly options: QueueNodeOptions) {
    this.now = options.now ?? Date.now;
    for (const topic of options.topics)
      for (let number = 0; number < topic.partitions; number++) {
        const directory = partitionDirectory(options.dataDir, topic.name, number);
        const log = SegmentLog.open({
          directory,
          segmentBytes: options.segmentBytes,
          initialMembers: options.initialMembers,
          applyConfig: options.applyConfig,
        });
        if (log.recovery.truncatedBytes > 0)
          options.logger.warn('cut a torn tail from the log', {
            topic: topic.name,
            partition: number,
            bytes: log.recovery.truncatedBytes,
          });
        const restored = options.replayWal?.(`${topic.name}/${number}`, log) ?? 0;
        if (restored > 0)
          options.logger.info('restored entries from the WAL', { topic: topic.name, partition: number, restored });
        const isOffsets = topic.name === OFFSETS_TOPIC;
        const partition = new Partition(
          topic.name,
          number,
          log,
          readHardState(directory).commit,
          isOffsets ? (entry) => this.offsets.apply(entry) : undefined,
          isOffsets ? () => this.offsets.clear() : undefined,
        );
        this.partitions.set(partition.key, partition);
      }
  }

  set replication(replication: Replication) {
    this.replicationRef = replication;
  }

  get replication(): Replication {
    if (!this.replicationRef) throw new Error('replication is not started');
    return this.replicationRef;
  }

  /** The topics clients see (the internal ones are left out). */
  topicList(): TopicSpec[] {
    return this.options.topics.filter((topic) => !topic.isInternal);
  }

  topic(name: string): TopicSpec {
    const topic = this.options.topics.find((candidate) => candidate.name === name);
    if (!topic) throw unknownTopic(name);
    return topic;
  }

  partition(topic: string, number: number): Partition {
    const found = this.partitions.get(`${topic}/${number}`);
    if (found) return found;
    this.topic(topic);
    throw unknownPartition(topic, number);
  }

  /** Produces records; answers each record's `{partition, offset}` in request order once all are committed. */
  async produce(
    topicName: string,
    records: readonly ProduceRecord[],
  ): Promise<Array<{ partition: number; offset: number }>> {
    const topic = this.topic(topicName);
    if (topic.isInternal) throw unknownTopic(topicName);
    const deadline = this.now() + this.options.requestTimeoutMs;
    const byPartition = new Map<number, number[]>();
    const fallbackPartition = this.roundRobin++ % topic.partitions;
    records.forEach((record, position) => {
      const number = record.key === '' ? fallbackPartition : partitionOf(record.key, topic.partitions);
      const positions = byPartition.get(number) ?? [];
      positions.push(position);
      byPartition.set(number, positions);
    });
    const results = new Array<{ partition: number; offset: number }>(records.length);
    await Promise.all(
      [...byPartition].map(async ([number, positions]) => {
        const batch = positions.map((position) => records[position]);
        const baseOffset = await this.appendAnywhere(this.partition(topic.name, number), batch, deadline);
        positions.forEach((position, step) => (results[position] = { partition: number, offset: baseOffset + step }));
      }),
    );
    this.options.metrics.producedRecords.inc({ topic: topic.name }, records.length);
    return results;
  }

  /** On the leader: append records to one partition (a forwarded batch or a local one). */
  async appendOnLeader(partition: Partition, records: readonly ProduceRecord[], deadline: number): Promise<number> {
    const leader = this.replication.leaderOf(partition);
    if (leader !== this.replication.selfId) throw notLeader(`${partition.key}: this peer is not the leader`);
    const timestamp = this.now();
    const batch: QueueRecord[] = records.map((record) => ({ key: record.key, value: record.value, timestamp }));
    const started = process.hrtime.bigint();
    const baseOffset = await this.replication.propose(
      partition,
      encodeRecordBatch(batch),
      Math.max(1, deadline - this.now()),
    );
    this.options.metrics.commitLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return baseOffset;
  }

  /** On the leader: the batches another peer forwarded, each committed (or failed) on its own. */
  appendForwarded(parts: readonly ForwardedPart[]): Promise<ForwardResult[]> {
    return Promise.all(
      parts.map(async (part): Promise<ForwardResult> => {
        try {
          const partition = this.partition(part.topic, part.partition);
          return { base_offset: await this.appendOnLeader(partition, part.records, part.deadline) };
        } catch (error) {
          const answer = error instanceof ProposalDroppedError ? proposalDropped(error) : asAnswer(error);
          return { status: answer.status, error: { code: answer.code, message: answer.message } };
        }
      }),
    );
  }

  /** The response body: JSON text from the leader (forwarded) or rendered here from this peer's log. */
  async consume(request: ConsumeRequest): Promise<string | Buffer> {
    const partition = this.partition(request.topic, request.partition);
    const leader = this.replicationRef?.leaderOf(partition);
    const leaderUrl = leader && leader !== this.replication.selfId ? this.replication.peerUrl(leader) : undefined;
    if (!request.isLocal && leaderUrl) {
      const query = new URLSearchParams({
        topic: request.topic,
        partition: String(request.partition),
        offset: String(request.offset),
        count: String(request.count),
        wait_ms: String(request.waitMs),
        local: '1',
      });
      try {
        const response = await fetch(`${leaderUrl}/consume?${query}`, {
          signal: AbortSignal.timeout(request.waitMs + this.options.requestTimeoutMs),
        });
        const body = await response.text();
        if (response.ok) return body;
        if (response.status < 500) throw relayedError(response.status, body);
      } catch (error) {
        if (error instanceof ApiError) throw error;
        // The leader is unreachable: this peer's committed prefix is still correct to serve.
      }
    }
    return this.consumeLocally(partition, request);
  }

  private async consumeLocally(partition: Partition, request: ConsumeRequest): Promise<Buffer> {
    try {
      await partition.waitForRecords(request.offset, request.waitMs);
      const { records, nextOffset } = partition.read(request.offset, request.count, this.options.maxConsumeBytes);
      this.options.metrics.consumedRecords.inc({ topic: request.topic }, records.length);
      return renderConsumeBody(records, nextOffset);
    } catch (error) {
      if (error instanceof CompactedError) throw offsetOutOfRange(request.offset, error.first);
      throw error;
    }
  }

  async commitOffset(request: CommitRequest): Promise<void> {
    this.partition(request.topic, request.partition);
    const offsets = this.partition(OFFSETS_TOPIC, 0);
    const record = {
      key: ConsumerOffsets.recordKey(request.group, request.topic, request.partition),
      value: Buffer.from(String(request.offset)),
    };
    await this.appendAnywhere(offsets, [record], this.now() + this.options.requestTimeoutMs);
  }

  async readOffsets(group: string, topic: string, isLocal: boolean): Promise<Record<string, number>> {
    this.topic(topic);
    const offsets = this.partition(OFFSETS_TOPIC, 0);
    const leader = this.replication.leaderOf(offsets);
    const leaderUrl = leader && leader !== this.replication.selfId ? this.replication.peerUrl(leader) : undefined;
    if (!isLocal && leaderUrl) {
      try {
        const response = await fetch(`${leaderUrl}/offsets?${new URLSearchParams({ group, topic, local: '1' })}`, {
          signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        });
        if (response.ok) return ((await response.json()) as { offsets: Record<string, number> }).offsets;
      } catch {
        // Fall back to this peer's applied view.
      }
    }
    return this.offsets.offsets(group, topic);
  }

  cluster(): ClusterView {
    return {
      peers: this.replication.peers(),
      partitions: [...this.partitions.values()].map((partition) => {
        const status = this.replication.status(partition);
        return {
          topic: partition.topic,
          partition: partition.partition,
          leader: status.leader,
          term: status.term,
          commit_index: partition.commitIndex,
          members: status.members,
          lag: status.lag,
        };
      }),
    };
  }

  async close(): Promise<void> {
    this.forwarder.close();
    await Promise.all([...this.partitions.values()].map((partition) => partition.log.close()));
  }

  /**
   * Appends on whichever peer leads the partition, retrying through elections and leader moves until the deadline;
   * then answers 503 `no_quorum` (never a hang).
   */
  private async appendAnywhere(
    partition: Partition,
    records: readonly ProduceRecord[],
    deadline: number,
  ): Promise<number> {
    let lastProblem = 'no leader elected';
    while (this.now() < deadline) {
      const leader = this.replication.leaderOf(partition);
      if (leader === this.replication.selfId) {
        try {
          return await this.appendOnLeader(partition, records, deadline);
        } catch (error) {
          if (!isRetryable(error)) throw asAnswer(error, partition.key);
          lastProblem = (error as Error).message;
        }
      } else if (leader !== undefined) {
        const url = this.replication.peerUrl(leader);
        if (url) {
          try {
            return await this.forwardAppend(url, partition, records, deadline);
          } catch (error) {
            if (!isRetryable(error)) throw error;
            lastProblem = `leader ${leader}: ${(error as Error).message}`;
          }
        }
      }
      await sleep(Math.min(RETRY_MS, Math.max(0, deadline - this.now())));
    }
    throw noQuorum(`${partition.key}: not committed within ${this.options.requestTimeoutMs} ms (${lastProblem})`);
  }

  private async forwardAppend(
    url: string,
    partition: Partition,
    records: readonly ProduceRecord[],
    deadline: number,
  ): Promise<number> {
    return this.forwarder.append(url, partition.topic, partition.partition, records, deadline);
  }
}

/** The leader's 4xx answer, passed on to the client as it was. */
function relayedError(status: number, body: string): ApiError {
  try {
    const { code, message, ...details } = (JSON.parse(body) as { error: { code: string; message: string } }).error;
    return new ApiError(status, code, message, details);
  } catch {
    return new ApiError(status, 'invalid_request', body);
  }
}

/** An ambiguous failure (the batch may or may not commit) becomes 503 `no_quorum`; API errors pass through. */
function asAnswer(error: unknown, where = 'append'): ApiError {
  if (error instanceof ApiError) return error;
  return noQuorum(`${where}: the outcome is unknown (${(error as Error).message}); the batch may have been written`);
}

/** The entry was overwritten by a new leader: it never commits, so the forwarding peer may retry it. */
const proposalDropped = (error: ProposalDroppedError) => new ApiError(503, 'proposal_dropped', error.message);

/** Answers that prove nothing was appended: the only ones safe to retry (a retry must never write a record twice). */
const DEFINITELY_NOT_APPENDED = new Set(['not_leader', 'leadership_transfer', 'proposal_dropped']);

/**
 * Retry only when the batch certainly did not commit: leadership had moved before the proposal, the entry was
 * overwritten by a new leader, or the leader could not even be connected to. A timeout or a lost answer is ambiguous
 * and goes back to the client as 503.
 */
function isRetryable(error: unknown): boolean {
  if (error instanceof ApiError) return DEFINITELY_NOT_APPENDED.has(error.code);
  if (error instanceof ProposalDroppedError) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && DEFINITELY_NOT_APPENDED.has(code)) return true;
  // The connection to the leader was never made, so nothing was sent.
  return code === 'ECONNREFUSED';
}
