import { upstreamUrl } from '../api/client';
import type { Alert, AlertState, Rule } from '../api/types';
import { errorText, formatNumber, formatRelative, formatTime, h, replaceChildren, uniqueId } from '../ui/dom';
import type { Page, PageContext } from './context';
import { describe } from './explore';

const REFRESH_MS = 5000;
const STATES: AlertState[] = ['firing', 'pending', 'resolved'];

export function alertsPage(context: PageContext): Page {
  const initial = new URLSearchParams(context.search());
  const stateId = uniqueId('state');
  const ruleId = uniqueId('rule');
  const autoId = uniqueId('auto');
  const stateSelect = h(
    'select',
    { id: stateId, onchange: () => void refresh() },
    h('option', { value: '' }, 'Any state'),
    ...STATES.map((state) => h('option', { value: state }, state)),
  );
  stateSelect.value = STATES.includes(initial.get('state') as AlertState) ? initial.get('state')! : '';
  const ruleSelect = h(
    'select',
    { id: ruleId, onchange: () => void refresh() },
    h('option', { value: '' }, 'Any rule'),
  );
  const initialRule = initial.get('rule') ?? '';
  const autoRefresh = h('input', { type: 'checkbox', id: autoId, checked: true, onchange: () => schedule() });
  const updated = h('p', { className: 'summary', role: 'status', 'aria-live': 'polite' });
  const body = h('div', { className: 'table-wrap' });
  const element = h(
    'section',
    { className: 'page', 'aria-labelledby': 'alerts-title' },
    h('h1', { id: 'alerts-title' }, 'Alerts'),
    h(
      'div',
      { className: 'toolbar' },
      h('label', { for: stateId }, 'State'),
      stateSelect,
      h('label', { for: ruleId }, 'Rule'),
      ruleSelect,
      h(
        'span',
        { className: 'checkbox' },
        autoRefresh,
        h('label', { for: autoId }, `Auto-refresh every ${REFRESH_MS / 1000} s`),
      ),
      h('button', { type: 'button', onclick: () => void refresh() }, '↻ Refresh'),
    ),
    updated,
    body,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  let controller: AbortController | undefined;
  let knownRules = new Set<string>(initialRule ? [initialRule] : []);

  const schedule = () => {
    clearTimeout(timer);
    if (autoRefresh.checked) timer = setTimeout(() => void refresh(), REFRESH_MS);
  };

  const fillRules = (names: string[]) => {
    const selected = ruleSelect.value || initialRule;
    const next = new Set([...knownRules, ...names]);
    if (next.size === knownRules.size && ruleSelect.options.length > 1) return;
    knownRules = next;
    ruleSelect.replaceChildren(
      h('option', { value: '' }, 'Any rule'),
      ...[...knownRules].sort().map((name) => h('option', { value: name }, name)),
    );
    ruleSelect.value = selected;
  };

  async function refresh() {
    controller?.abort();
    controller = new AbortController();
    const params = new URLSearchParams();
    if (stateSelect.value) params.set('state', stateSelect.value);
    if (ruleSelect.value || (initialRule && ruleSelect.options.length <= 1))
      params.set('rule', ruleSelect.value || initialRule);
    context.setSearch(params.toString());
    try {
      const [alerts, rules] = await Promise.all([
        context.api.json<{ alerts: Alert[] }>(
          'GET',
          upstreamUrl('alerting', `/alerts?${params}`),
          undefined,
          controller.signal,
        ),
        context.api.json<{ rules: Rule[] }>('GET', upstreamUrl('alerting', '/rules'), undefined, controller.signal),
      ]);
      fillRules(rules.rules.map((rule) => rule.name));
      renderAlerts(alerts.alerts);
      updated.textContent = `${alerts.alerts.length} alert${alerts.alerts.length === 1 ? '' : 's'} · updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      if ((error as Error).name === 'AbortError') return;
      replaceChildren(body, errorText(`Could not load alerts: ${describe(error)}`));
    }
    schedule();
  }

  function renderAlerts(alerts: Alert[]) {
    if (alerts.length === 0) {
      replaceChildren(body, h('p', { className: 'empty' }, 'No alerts match. Inactive alerts are not listed.'));
      return;
    }
    const now = Date.now();
    replaceChildren(
      body,
      h(
        'table',
        { className: 'data alerts' },
        h('caption', { className: 'visually-hidden' }, 'Alerts'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['State', 'Rule', 'Value', 'Labels', 'Since', 'Last notification'].map((title) =>
              h('th', { scope: 'col' }, title),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ...alerts.map((alert) =>
            h(
              'tr',
              { 'data-state': alert.state, 'data-rule': alert.rule },
              h('td', {}, h('span', { className: `badge state-${alert.state}` }, alert.state)),
              h('td', {}, alert.rule),
              h('td', { className: 'number' }, formatNumber(alert.value)),
              h('td', {}, labelChips(alert.labels)),
              h(
                'td',
                { title: `active since ${formatTime(alert.activeAt)}` },
                formatRelative(alert.state === 'resolved' ? alert.resolvedAt : (alert.firedAt ?? alert.activeAt), now),
                h(
                  'div',
                  { className: 'muted' },
                  alert.state === 'resolved' ? 'resolved' : alert.firedAt ? 'firing since' : 'pending since',
                  ' ',
                  formatTime(alert.state === 'resolved' ? alert.resolvedAt : (alert.firedAt ?? alert.activeAt)),
                ),
              ),
              h(
                'td',
                {},
                alert.lastNotification
                  ? [
                      h(
                        'span',
                        { className: `badge delivery-${alert.lastNotification.status}` },
                        alert.lastNotification.status,
                      ),
                      ` ${alert.lastNotification.channel} · ${formatRelative(alert.lastNotification.at, now)}`,
                    ]
                  : '—',
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
      controller?.abort();
    },
  };
}

export function labelChips(labels: Record<string, string> | undefined) {
  const entries = Object.entries(labels ?? {});
  if (entries.length === 0) return '—';
  return h('ul', { className: 'chips' }, ...entries.map(([name, value]) => h('li', {}, `${name}=${value}`)));
}
