import http from 'node:http';

export interface PeerAnswer {
  status: number;
  body: Buffer;
}

/**
 * One POST to another peer over a kept-alive `agent` (node:http costs far less than fetch per request); rejects on a
 * network error or when no whole answer arrived within `timeoutMs`, whatever the status.
 */
export function postToPeer(
  agent: http.Agent,
  url: string,
  body: Buffer,
  contentType: string,
  timeoutMs: number,
): Promise<PeerAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': contentType, 'content-length': body.length },
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    request.on('error', fail);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) });
      });
    });
    request.end(body);
  });
}
