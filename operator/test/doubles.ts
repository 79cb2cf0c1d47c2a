/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects and HTTP bodies are read as untyped JSON in tests. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterView } from '../queuecluster/types';

/** Recording stand-ins for the queue's admin API and the alerting rules API, as docs/CONTRACTS.md describes them. */

export interface RecordedCall {
  method: string;
  path: string;
  body: any;
}

/** Listens on a free loopback port; `close` also drops kept-alive connections. */
async function listenRecording<Call>(server: http.Server, calls: Call[]) {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    calls,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serve(handler: (call: RecordedCall) => { status: number; body?: unknown }) {
  const calls: RecordedCall[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const text = Buffer.concat(parts).toString();
      const call = { method: req.method ?? 'GET', path: req.url ?? '/', body: text ? JSON.parse(text) : undefined };
      if (call.method !== 'GET') calls.push(call);
      const answer = handler(call);
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  return listenRecording(server, calls);
}

/** A queue cluster's admin API: membership shared by every partition, leaders spread over the members. */
export async function startQueueAdminDouble(initialMembers: string[], partitions = 12) {
  const state = { members: [...initialMembers], unreachable: new Set<string>(), leaders: [] as string[] };
  const spreadLeaders = () => {
    state.leaders = Array.from({ length: partitions }, (_, index) => state.members[index % state.members.length]);
  };
  spreadLeaders();
  const view = (): ClusterView => ({
    peers: state.members.map((id) => ({ id, url: `http://${id}`, reachable: !state.unreachable.has(id) })),
    partitions: state.leaders.map((leader, partition) => ({
      topic: 'metrics.inbound',
      partition,
      leader,
      term: 1,
      commit_index: 100,
      members: [...state.members],
      lag: Object.fromEntries(state.members.map((id) => [id, 0])),
    })),
  });
  const served = await serve((call) => {
    if (call.method === 'GET' && call.path === '/cluster') return { status: 200, body: view() };
    if (call.method === 'POST' && call.path === '/v1/cluster/members') {
      if (!state.members.includes(call.body.id)) state.members.push(call.body.id);
      return { status: 200, body: { ok: true } };
    }
    const removal = /^\/v1\/cluster\/members\/(.+)$/.exec(call.path);
    if (call.method === 'DELETE' && removal) {
      const id = decodeURIComponent(removal[1]);
      if (state.leaders.includes(id))
        return { status: 409, body: { error: { code: 'is_leader', message: `${id} leads` } } };
      state.members = state.members.filter((member) => member !== id);
      return { status: 200, body: { ok: true } };
    }
    if (call.method === 'POST' && call.path === '/v1/cluster/transfer-leadership') {
      const others = state.members.filter((member) => member !== call.body.from);
      state.leaders = state.leaders.map((leader, index) =>
        leader === call.body.from ? others[index % others.length] : leader,
      );
      return { status: 200, body: { ok: true } };
    }
    return { status: 404, body: { error: { code: 'not_found', message: call.path } } };
  });
  return { ...served, state };
}

/** The alerting service's rules API: a query containing "((" is rejected the way the query engine reports errors. */
export async function startAlertingDouble() {
  const rules = new Map<string, any>();
  const alerts: { rule: string; state: string; value: number }[] = [];
  const served = await serve((call) => {
    const match = /^\/rules\/(.+)$/.exec(call.path);
    if (call.method === 'GET' && call.path === '/alerts') return { status: 200, body: { alerts } };
    if (match && call.method === 'PUT') {
      const position = String(call.body.query).indexOf('((');
      if (position >= 0)
        return { status: 400, body: { error: { code: 'parse_error', message: 'unexpected "("', position } } };
      rules.set(decodeURIComponent(match[1]), call.body);
      return { status: 200, body: call.body };
    }
    if (match && call.method === 'DELETE') {
      const existed = rules.delete(decodeURIComponent(match[1]));
      return existed
        ? { status: 204 }
        : { status: 404, body: { error: { code: 'rule_not_found', message: 'no rule' } } };
    }
    return { status: 404, body: { error: { code: 'not_found', message: call.path } } };
  });
  return { ...served, rules, alerts };
}

/** A recording pass-through in front of a real queue peer's admin API: each call with its status and answer. */
export async function startAdminRecorder(targetUrl: string) {
  const calls: (RecordedCall & { status: number; answer: string })[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const forward = async () => {
        const text = Buffer.concat(parts).toString();
        const method = req.method ?? 'GET';
        const path = req.url ?? '/';
        const response = await fetch(`${targetUrl}${path}`, {
          method,
          headers: text ? { 'Content-Type': 'application/json' } : {},
          body: text || undefined,
        });
        const answer = await response.text();
        if (method !== 'GET')
          calls.push({
            method,
            path,
            body: text ? JSON.parse(text) : undefined,
            status: response.status,
            answer,
          });
        res.writeHead(response.status, { 'Content-Type': 'application/json' });
        res.end(answer);
      };
      forward().catch((error: unknown) => {
        res.writeHead(502, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'bad_gateway', message: String(error) } }));
      });
    });
  });
  return listenRecording(server, calls);
}
