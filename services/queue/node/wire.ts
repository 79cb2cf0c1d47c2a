import type { Entry, Message } from '../raft/types';

/**
 * One batch frame of a Raft stream between two peers (stream-frames.ts): every Raft group's messages from one flush.
 *
 * body   := headerLength u32 LE | header (UTF-8 JSON) | blob*
 * header := {"from", "url", "messages": [{"group", "message"}]} where each entry's `data` is replaced by its length,
 *           and the entry data follow as blobs in message order. Entry data thus crosses the wire as raw bytes,
 *           never as base64 or re-encoded JSON.
 */
export interface GroupMessage {
  group: string;
  message: Message;
}

export interface MessageBatch {
  from: string;
  url: string;
  messages: GroupMessage[];
}

export class WireError extends Error {
  override readonly name = 'WireError';
}

type EntryHeader = Omit<Entry, 'data'> & { data: number };

export function encodeBatch(batch: MessageBatch): Buffer {
  const blobs: Uint8Array[] = [];
  const messages = batch.messages.map(({ group, message }) => {
    if (message.type !== 'append' || message.entries.length === 0) return { group, message };
    const entries: EntryHeader[] = message.entries.map((entry) => {
      blobs.push(entry.data);
      return { index: entry.index, term: entry.term, kind: entry.kind, data: entry.data.length };
    });
    return { group, message: { ...message, entries } };
  });
  const header = Buffer.from(JSON.stringify({ from: batch.from, url: batch.url, messages }), 'utf8');
  let size = 4 + header.length;
  for (const blob of blobs) size += blob.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  let position = 4 + header.length;
  for (const blob of blobs) {
    out.set(blob, position);
    position += blob.length;
  }
  return out;
}

/** Decodes a batch; entry data are views into `body`. Throws WireError on anything malformed. */
export function decodeBatch(body: Buffer): MessageBatch {
  if (body.length < 4) throw new WireError('batch shorter than its header length');
  const headerLength = body.readUInt32LE(0);
  if (4 + headerLength > body.length) throw new WireError('batch header runs past the body');
  let parsed: MessageBatch;
  try {
    parsed = JSON.parse(body.toString('utf8', 4, 4 + headerLength)) as MessageBatch;
  } catch (error) {
    throw new WireError('batch header is not JSON', { cause: error });
  }
  if (typeof parsed?.from !== 'string' || typeof parsed.url !== 'string' || !Array.isArray(parsed.messages))
    throw new WireError('batch header lacks from, url or messages');
  let position = 4 + headerLength;
  for (const { message } of parsed.messages) {
    if (message?.type !== 'append' || !Array.isArray(message.entries)) continue;
    for (const entry of message.entries as unknown as EntryHeader[]) {
      const length = entry.data;
      if (!Number.isInteger(length) || length < 0 || position + length > body.length)
        throw new WireError('entry data runs past the body');
      (entry as unknown as Entry).data = body.subarray(position, position + length);
      position += length;
    }
  }
  if (position !== body.length) throw new WireError('bytes left after the last entry');
  return parsed;
}
