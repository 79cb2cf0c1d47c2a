import { CONSOLE_CONFIG_URL, SHARDS_URL, upstreamUrl } from '../api/client';
import type { ConsoleConfig, QueueCluster } from '../api/types';
import { counterRate, sumSamples, type CounterSample } from '../status/prometheus-text';
import { errorText, formatNumber, h, replaceChildren } from '../ui/dom';
import type { Page, PageContext } from './context';
import { describe } from './explore';

const REFRESH_MS = 5000;
const ACCEPTED_METRIC = 'ingestion_metrics_accepted_total';

interface Health {
  name: string;
  detail: string;
  isUp: boolean | undefined;
}

export function statusPage(context: PageContext): Page {
  const servicesArea = h('div', { className: 'cards', role: 'list' });
  const ingestArea = h('div', {});
  const queueArea = h('div', { className: 'table-wrap' });
  const storageArea = h('div', { className: 'table-wrap' });
  const updated = h('p', { className: 'summary', role: 'status', 'aria-live': 'polite' });
  const element = h(
    'section',
    { className: 'page', 'aria-labelledby': 'status-title' },
    h('h1', { id: 'status-title' }, 'Status'),
    updated,
    h('h2', {}, 'Services'),
    servicesArea,
    h('h2', {}, 'Ingest rate'),
    ingestArea,
    h('h2', {}, 'Queue partitions'),
    queueArea,
    h('h2', {}, 'Storage shards'),
    storageArea,
  );
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let previousAccepted: CounterSample | undefined;

  const isHealthy = (url: string) =>
    context.api.json('GET', url, undefined, controller.signal).then(
      () => true,
      (error: unknown) => {
        if ((error as Error).name === 'AbortError') throw error;
        return false;
      },
    );

  async function refresh() {
    try {
      const config = await context.api.json<ConsoleConfig>('GET', CONSOLE_CONFIG_URL, undefined, controller.signal);
      const { services } = config;
      const shardUrls = await context.api
        .json<{ shards: string[] }>('GET', SHARDS_URL, undefined, controller.signal)
        .then(
          (answer) => answer.shards,
          () => [] as string[],
        );
      const storageIndexes = Array.from({ length: services.storage }, (_, index) => index);
      const [queryUp, alertingUp, queueUp, ingestionUp, storageUp] = await Promise.all([
        isHealthy('/healthz'),
        services.alerting ? isHealthy(upstreamUrl('alerting', '/healthz')) : undefined,
        services.queue ? isHealthy(upstreamUrl('queue', '/healthz')) : undefined,
        services.ingestion ? isHealthy(upstreamUrl('ingestion', '/healthz')) : undefined,
        Promise.all(storageIndexes.map((index) => isHealthy(upstreamUrl(`storage/${index}`, '/healthz')))),
      ]);
      const health: Health[] = [
        { name: 'query', detail: 'serves this console', isUp: queryUp },
        { name: 'alerting', detail: services.alerting ? '' : 'not configured', isUp: alertingUp },
        { name: 'queue', detail: services.queue ? '' : 'not configured', isUp: queueUp },
        { name: 'ingestion', detail: services.ingestion ? '' : 'not configured', isUp: ingestionUp },
        ...(services.storage === 0
          ? [{ name: 'storage', detail: 'not configured', isUp: undefined }]
          : storageUp.map((isUp, index) => ({ name: `storage ${index}`, detail: shardUrls[index] ?? '', isUp }))),
      ];
      replaceChildren(servicesArea, ...health.map(healthCard));
      await Promise.all([
        services.ingestion
          ? renderIngest()
          : replaceChildren(ingestArea, h('p', { className: 'empty' }, 'Ingestion is not configured.')),
        services.queue
          ? renderQueue()
          : replaceChildren(queueArea, h('p', { className: 'empty' }, 'The queue is not configured.')),
      ]);
      renderStorage(shardUrls, storageUp);
      updated.textContent = `Updated ${new Date().toLocaleTimeString()} · every ${REFRESH_MS / 1000} s`;
    } catch (error) {
      if ((error as Error).name === 'AbortError') return;
      replaceChildren(servicesArea, errorText(`Could not load the status: ${describe(error)}`));
    }
    timer = setTimeout(() => void refresh(), REFRESH_MS);
  }

  async function renderIngest() {
    try {
      const text = await context.api.text(upstreamUrl('ingestion', '/metrics'), controller.signal);
      const accepted = sumSamples(text, ACCEPTED_METRIC) ?? 0;
      const sample = { value: accepted, at: Date.now() };
      const rate = counterRate(previousAccepted, sample);
      previousAccepted = sample;
      replaceChildren(
        ingestArea,
        h(
          'dl',
          { className: 'figures' },
          h(
            'div',
            {},
            h('dt', {}, 'Metrics accepted per second'),
            h(
              'dd',
              { 'data-figure': 'ingest-rate' },
              rate === undefined ? 'measuring…' : formatNumber(Number(rate.toFixed(2))),
            ),
          ),
          h(
            'div',
            {},
            h('dt', {}, 'Metrics accepted since start'),
            h('dd', { 'data-figure': 'ingest-total' }, formatNumber(accepted)),
          ),
        ),
      );
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      replaceChildren(ingestArea, errorText(`Ingestion metrics unavailable: ${describe(error)}`));
    }
  }

  async function renderQueue() {
    try {
      const cluster = await context.api.json<QueueCluster>(
        'GET',
        upstreamUrl('queue', '/cluster'),
        undefined,
        controller.signal,
      );
      replaceChildren(
        queueArea,
        h(
          'p',
          {},
          'Peers: ',
          ...cluster.peers.map((peer) =>
            h(
              'span',
              { className: `badge ${peer.reachable ? 'up' : 'down'}`, title: peer.url },
              `${peer.id} ${peer.reachable ? 'reachable' : 'unreachable'}`,
            ),
          ),
        ),
        h(
          'table',
          { className: 'data compact' },
          h('caption', { className: 'visually-hidden' }, 'Queue partitions'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Topic', 'Partition', 'Leader', 'Term', 'Commit index', 'Members'].map((title) =>
                h('th', { scope: 'col' }, title),
              ),
            ),
          ),
          h(
            'tbody',
            {},
            ...cluster.partitions.map((partition) =>
              h(
                'tr',
                {},
                h('td', {}, partition.topic),
                h('td', { className: 'number' }, partition.partition),
                h('td', {}, partition.leader ?? h('span', { className: 'badge down' }, 'no leader')),
                h('td', { className: 'number' }, partition.term),
                h('td', { className: 'number' }, partition.commit_index),
                h('td', {}, partition.members.join(', ')),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      replaceChildren(queueArea, errorText(`Queue cluster unavailable: ${describe(error)}`));
    }
  }

  function renderStorage(shardUrls: string[], storageUp: boolean[]) {
    if (shardUrls.length === 0) {
      replaceChildren(storageArea, h('p', { className: 'empty' }, 'The query service lists no shards.'));
      return;
    }
    replaceChildren(
      storageArea,
      h(
        'table',
        { className: 'data compact' },
        h('caption', { className: 'visually-hidden' }, 'Storage shards'),
        h('thead', {}, h('tr', {}, ...['Shard', 'URL', 'Health'].map((title) => h('th', { scope: 'col' }, title)))),
        h(
          'tbody',
          {},
          ...shardUrls.map((url, index) =>
            h(
              'tr',
              {},
              h('td', { className: 'number' }, index),
              h('td', {}, url),
              h(
                'td',
                {},
                storageUp[index] === undefined
                  ? '—'
                  : h(
                      'span',
                      { className: `badge ${storageUp[index] ? 'up' : 'down'}` },
                      storageUp[index] ? 'up' : 'down',
                    ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  void refresh();
  return {
    element,
    leave() {
      clearTimeout(timer);
      controller.abort();
    },
  };
}

function healthCard(health: Health) {
  const state = health.isUp === undefined ? 'unknown' : health.isUp ? 'up' : 'down';
  return h(
    'div',
    { className: `card ${state}`, role: 'listitem', 'data-service': health.name, 'data-health': state },
    h('strong', {}, health.name),
    h('span', { className: `badge ${state}` }, state === 'unknown' ? '—' : state),
    health.detail && h('small', {}, health.detail),
  );
}
