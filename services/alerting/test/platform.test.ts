import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startService, waitFor, type ManagedProcess } from '../../kit/testing/processes';
import { startHttpReceiver, type HttpReceiver } from '../testing/receivers';

/**
 * End to end with the real storage and query engine (compiled CLI): points written to storage cross the threshold,
 * the alert goes pending, fires after `duration`, the webhook gets the firing notification; the values drop and the
 * resolved notification arrives.
 */
jest.setTimeout(60_000);

const processes: ManagedProcess[] = [];
let receiver: HttpReceiver;
let dataDir: string;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'alerting-platform-'));
});

afterAll(async () => {
  for (const managed of processes.splice(0)) await managed.kill9();
  await receiver.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('storage → query engine → alerting: pending, firing, notified, resolved', async () => {
  const [storagePort, queryPort, alertingPort] = [await freePort(), await freePort(), await freePort()];
  processes.push(
    await startService('storage', storagePort, ['--data-dir', path.join(dataDir, 'storage'), '--fsync', 'false']),
  );
  processes.push(await startService('query', queryPort, ['--storage-urls', `http://127.0.0.1:${storagePort}`]));
  processes.push(
    await startService('alerting', alertingPort, [
      ...['--query-url', `http://127.0.0.1:${queryPort}`, '--data-dir', path.join(dataDir, 'alerting')],
      ...['--evaluation-interval', '300ms', '--schedule-resolution', '20ms'],
    ]),
  );
  const alerting = `http://127.0.0.1:${alertingPort}`;
  let level = 85;
  const write = async () => {
    const timestamp = Date.now();
    const points = ['a', 'b'].map((host) => ({
      measurement: 'cpu_usage',
      tags: { host },
      fields: { value: host === 'a' ? level : 20 },
      timestamp,
    }));
    const response = await fetch(`http://127.0.0.1:${storagePort}/write`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(points),
    });
    expect(response.status).toBe(200);
  };
  await write();
  const writer = setInterval(() => void write().catch(() => undefined), 100);
  try {
    const post = (url: string, body: unknown) =>
      fetch(alerting + url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await post('/channels', { name: 'hook', type: 'webhook', settings: { url: `${receiver.url}/hook` } })).status,
    ).toBe(201);
    const created = await post('/rules', {
      name: 'high_cpu',
      query: 'avg(cpu_usage) by (host) > 80',
      duration: '1500ms',
      window: '1s',
      channels: ['hook'],
    });
    expect(created.status).toBe(201);
    const duplicate = await post('/rules', { name: 'high_cpu', query: 'avg(cpu_usage) > 1', duration: '1m' });
    expect(duplicate.status).toBe(409);
    const refused = (await (
      await post('/rules', { name: 'bogus', query: 'bogus(cpu_usage) > 1', duration: '1m' })
    ).json()) as { error: unknown };
    expect(refused.error).toMatchObject({ code: 'unknown_function', position: 7 });

    const pending = await waitFor(
      async () => {
        const { alerts } = (await (await fetch(`${alerting}/alerts?state=pending`)).json()) as { alerts: unknown[] };
        return alerts.length > 0 ? alerts : undefined;
      },
      15_000,
      'a pending alert',
    );
    expect(pending).toMatchObject([{ rule: 'high_cpu', state: 'pending', labels: { host: 'a' }, value: 85 }]);
    await waitFor(() => receiver.received.length === 1, 15_000, 'the firing notification');
    const firing = receiver.received[0].body as { status: string; alerts: { labels: Record<string, string> }[] };
    expect(firing.status).toBe('firing');
    expect(firing.alerts.map((alert) => alert.labels.host)).toEqual(['a']);

    level = 10;
    await waitFor(() => receiver.received.length === 2, 15_000, 'the resolved notification');
    expect((receiver.received[1].body as { status: string }).status).toBe('resolved');
  } finally {
    clearInterval(writer);
  }
});
