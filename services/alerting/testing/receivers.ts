import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * Real receivers for notification tests: an HTTP server that records what Slack, webhook and PagerDuty channels
 * post (and can fail on purpose the first N times per path), and an SMTP server that records received mail.
 */
export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  receivedAt: number;
}

export interface HttpReceiver {
  url: string;
  /** Requests answered 2xx, in arrival order. */
  readonly received: ReceivedRequest[];
  /** Requests refused on purpose. */
  readonly refused: ReceivedRequest[];
  /** Answer the next `count` requests to `path` with `status`. */
  failNext(path: string, count: number, status?: number): void;
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const received: ReceivedRequest[] = [];
  const refused: ReceivedRequest[] = [];
  const failures = new Map<string, { count: number; status: number }>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const text = Buffer.concat(parts).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Recorded as text.
      }
      const request = { path: req.url ?? '', headers: req.headers, body, receivedAt: Date.now() };
      const failure = failures.get(request.path);
      if (failure && failure.count > 0) {
        failure.count--;
        refused.push(request);
        res.writeHead(failure.status, { 'content-type': 'text/plain' });
        res.end('failing on purpose');
        return;
      }
      received.push(request);
      res.writeHead(request.path.startsWith('/pagerduty') ? 202 : 200, { 'content-type': 'application/json' });
      res.end(request.path.startsWith('/pagerduty') ? '{"status":"success"}' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    refused,
    failNext(path, count, status = 500) {
      failures.set(path, { count, status });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  user?: string;
  /** Whether the session was upgraded to TLS before the message. */
  isSecure: boolean;
}

export interface SmtpReceiver {
  port: number;
  readonly mails: ReceivedMail[];
  close(): Promise<void>;
}

/**
 * An SMTP server that accepts the given user and password and records each message. With `offersStartTls` it offers
 * STARTTLS with smtp-server's built-in self-signed certificate; otherwise it speaks plain SMTP only.
 */
export async function startSmtpReceiver(user: string, password: string, offersStartTls = false): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: offersStartTls ? [] : ['STARTTLS'],
    authOptional: false,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) callback(null, { user });
      else callback(new Error('invalid credentials'));
    },
    onData(stream, session, callback) {
      const parts: Buffer[] = [];
      stream.on('data', (part: Buffer) => parts.push(part));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((address) => address.address),
          raw: Buffer.concat(parts).toString('utf8'),
          user: session.user as string | undefined,
          isSecure: session.secure,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
