import type http from 'node:http';
import type net from 'node:net';
import type { Logger } from '../../kit/logger';
import { encodeAck, FrameKind, FrameReader, STREAM_PATH, STREAM_PROTOCOL } from './stream-frames';
import { decodeBatch, type MessageBatch } from './wire';

/**
 * The receiving end of the Raft streams (transport.ts): an HTTP upgrade of `GET /v1/internal/raft-stream` on the API
 * port turns the connection into a stream of batch frames from one peer. Each batch is handed to `receive` as it
 * completes; once per turn of the event loop the stream answers how many batches it took. A malformed frame or batch
 * closes that stream only (the sender reconnects and Raft resends).
 */
export class RaftStreamServer {
  private readonly sockets = new Set<net.Socket>();
  private isClosed = false;

  constructor(
    private readonly receive: (batch: MessageBatch) => void,
    private readonly logger: Logger,
  ) {}

  attach(server: http.Server): void {
    server.on('upgrade', (request: http.IncomingMessage, socket: net.Socket, head: Buffer) =>
      this.accept(request, socket, head),
    );
  }

  /** Closes every inbound stream and refuses new ones (an HTTP server's close waits for upgraded sockets too). */
  close(): void {
    this.isClosed = true;
    for (const socket of this.sockets) socket.destroy();
  }

  private accept(request: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const path = request.url?.split('?')[0];
    if (this.isClosed || path !== STREAM_PATH || request.headers.upgrade !== STREAM_PROTOCOL) {
      const status = this.isClosed ? '503 Service Unavailable' : '404 Not Found';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${STREAM_PROTOCOL}\r\n\r\n`);
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    // HTTP server sockets allow half-open connections: a sender that went away must not leave this end behind.
    socket.on('end', () => socket.destroy());
    socket.on('error', (error) => this.logger.warn('raft stream failed', { error: error.message }));
    const reader = new FrameReader();
    let taken = 0;
    let acknowledged = 0;
    let isAckScheduled = false;
    const onData = (chunk: Buffer) => {
      try {
        for (const frame of reader.push(chunk)) {
          if (frame.kind !== FrameKind.Batch) throw new Error(`unexpected frame kind ${frame.kind} from the sender`);
          this.receive(decodeBatch(frame.payload));
          taken++;
        }
      } catch (error) {
        this.logger.warn('closing a malformed raft stream', { error: (error as Error).message });
        socket.destroy();
        return;
      }
      if (isAckScheduled || taken === acknowledged) return;
      isAckScheduled = true;
      setImmediate(() => {
        isAckScheduled = false;
        acknowledged = taken;
        if (!socket.destroyed) socket.write(encodeAck(taken));
      });
    };
    socket.on('data', onData);
    if (head.length > 0) onData(head);
  }
}
