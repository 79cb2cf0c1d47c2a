import { ApiFailure, upstreamUrl } from '../api/client';
import type { Channel, Rule } from '../api/types';
import { errorText, h, replaceChildren, uniqueId } from '../ui/dom';
import { labelChips } from './alerts';
import type { Page, PageContext } from './context';
import { describe } from './explore';

const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const FORM_FIELDS = [
  'name',
  'query',
  'duration',
  'window',
  'interval',
  'severity',
  'channels',
  'labels',
  'annotations',
] as const;
type FormField = (typeof FORM_FIELDS)[number];

export function rulesPage(context: PageContext): Page {
  const list = h('div', { className: 'table-wrap' });
  const channelsArea = h('div', { className: 'table-wrap' });
  const formArea = h('div', {});
  const newButton = h(
    'button',
    { type: 'button', className: 'primary', onclick: () => openForm(undefined) },
    'New rule',
  );
  const element = h(
    'section',
    { className: 'page', 'aria-labelledby': 'rules-title' },
    h('h1', { id: 'rules-title' }, 'Rules'),
    h('div', { className: 'toolbar' }, newButton),
    formArea,
    list,
    h('h2', {}, 'Channels'),
    channelsArea,
  );
  let channels: Channel[] = [];
  const controller = new AbortController();

  async function load() {
    try {
      const [rules, channelList] = await Promise.all([
        context.api.json<{ rules: Rule[] }>('GET', upstreamUrl('alerting', '/rules'), undefined, controller.signal),
        context.api.json<{ channels: Channel[] }>(
          'GET',
          upstreamUrl('alerting', '/channels'),
          undefined,
          controller.signal,
        ),
      ]);
      channels = channelList.channels;
      renderRules(rules.rules);
      renderChannels();
    } catch (error) {
      if ((error as Error).name === 'AbortError') return;
      replaceChildren(list, errorText(`Could not load rules: ${describe(error)}`));
    }
  }

  function renderRules(rules: Rule[]) {
    if (rules.length === 0) {
      replaceChildren(list, h('p', { className: 'empty' }, 'No rules yet.'));
      return;
    }
    replaceChildren(
      list,
      h(
        'table',
        { className: 'data rules' },
        h('caption', { className: 'visually-hidden' }, 'Alert rules'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Name', 'Condition', 'For', 'Severity', 'Channels', 'Labels', 'Enabled', ''].map((title) =>
              h('th', { scope: 'col' }, title),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ...rules.map((rule) =>
            h(
              'tr',
              { 'data-rule': rule.name },
              h('td', {}, rule.name),
              h('td', {}, h('code', {}, rule.query)),
              h('td', {}, rule.duration),
              h('td', {}, rule.severity ?? 'warning'),
              h('td', {}, rule.channels.join(', ') || '—'),
              h('td', {}, labelChips(rule.labels)),
              h('td', {}, rule.enabled === false ? 'no' : 'yes'),
              h(
                'td',
                { className: 'actions' },
                h(
                  'button',
                  { type: 'button', onclick: () => openForm(rule), 'aria-label': `Edit ${rule.name}` },
                  'Edit',
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    className: 'danger',
                    onclick: () => void remove(rule.name),
                    'aria-label': `Delete ${rule.name}`,
                  },
                  'Delete',
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  function renderChannels() {
    if (channels.length === 0) {
      replaceChildren(
        channelsArea,
        h('p', { className: 'empty' }, 'No channels. Create them with POST /channels or a channels file.'),
      );
      return;
    }
    replaceChildren(
      channelsArea,
      h(
        'table',
        { className: 'data' },
        h('caption', { className: 'visually-hidden' }, 'Notification channels'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Name', 'Type', 'Source', 'Settings (secrets masked)'].map((title) => h('th', { scope: 'col' }, title)),
          ),
        ),
        h(
          'tbody',
          {},
          ...channels.map((channel) =>
            h(
              'tr',
              {},
              h('td', {}, channel.name),
              h('td', {}, channel.type),
              h('td', {}, channel.source ?? 'api'),
              h(
                'td',
                {},
                h(
                  'ul',
                  { className: 'chips' },
                  ...Object.entries(channel.settings).map(([name, value]) =>
                    h('li', {}, `${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`),
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  async function remove(name: string) {
    if (!window.confirm(`Delete rule ${name} and its alerts?`)) return;
    try {
      await context.api.json('DELETE', upstreamUrl('alerting', `/rules/${encodeURIComponent(name)}`));
      await load();
    } catch (error) {
      replaceChildren(formArea, errorText(`Could not delete ${name}: ${describe(error)}`));
    }
  }

  function openForm(rule: Rule | undefined) {
    const form = ruleForm(
      rule,
      channels,
      async (body) => {
        const path = rule ? `/rules/${encodeURIComponent(rule.name)}` : '/rules';
        await context.api.json(rule ? 'PUT' : 'POST', upstreamUrl('alerting', path), body);
        replaceChildren(formArea);
        newButton.focus();
        await load();
      },
      () => {
        replaceChildren(formArea);
        newButton.focus();
      },
    );
    replaceChildren(formArea, form.element);
    form.focus();
  }

  void load();
  return { element, leave: () => controller.abort() };
}

function ruleForm(
  rule: Rule | undefined,
  channels: Channel[],
  save: (body: Record<string, unknown>) => Promise<void>,
  cancel: () => void,
) {
  const errors = new Map<FormField, HTMLElement>();
  const inputs = new Map<FormField, HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>();
  const field = (
    name: FormField,
    label: string,
    control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement,
    hint?: string,
  ) => {
    const id = uniqueId(name);
    const errorId = `${id}-error`;
    const hintId = `${id}-hint`;
    control.id = id;
    control.name = name;
    control.setAttribute('aria-describedby', hint ? `${hintId} ${errorId}` : errorId);
    const error = h('div', { id: errorId, className: 'field-error', 'aria-live': 'polite' });
    errors.set(name, error);
    inputs.set(name, control);
    return h(
      'div',
      { className: 'field', 'data-field': name },
      h('label', { for: id }, label),
      control,
      hint && h('small', { id: hintId }, hint),
      error,
    );
  };
  const nameInput = h('input', {
    type: 'text',
    required: true,
    value: rule?.name ?? '',
    readonly: rule !== undefined,
    autocomplete: 'off',
  });
  const queryInput = h('textarea', { rows: 2, required: true, spellcheck: 'false' });
  queryInput.value = rule?.query ?? '';
  const severity = h('select', {}, ...SEVERITIES.map((level) => h('option', { value: level }, level)));
  severity.value = rule?.severity ?? 'warning';
  const channelBoxes = channels.map((channel) => {
    const box = h('input', {
      type: 'checkbox',
      value: channel.name,
      checked: rule?.channels.includes(channel.name) ?? false,
      id: uniqueId('channel'),
    });
    return {
      box,
      element: h(
        'span',
        { className: 'checkbox' },
        box,
        h('label', { for: box.id }, `${channel.name} (${channel.type})`),
      ),
    };
  });
  const otherChannels = h('input', {
    type: 'text',
    value: (rule?.channels ?? []).filter((name) => !channels.some((channel) => channel.name === name)).join(', '),
  });
  const labels = h('textarea', { rows: 2, spellcheck: 'false' });
  labels.value = pairsText(rule?.labels);
  const annotations = h('textarea', { rows: 2, spellcheck: 'false' });
  annotations.value = pairsText(rule?.annotations);
  const enabled = h('input', { type: 'checkbox', id: uniqueId('enabled'), checked: rule?.enabled !== false });
  const general = h('div', { role: 'alert' });
  const submit = h('button', { type: 'submit', className: 'primary' }, rule ? 'Save rule' : 'Create rule');

  const element = h(
    'form',
    { className: 'rule-form', 'aria-label': rule ? `Edit rule ${rule.name}` : 'New rule', novalidate: true },
    h('h2', {}, rule ? `Edit ${rule.name}` : 'New rule'),
    field('name', 'Name', nameInput),
    field(
      'query',
      'Condition',
      queryInput,
      'An aggregate compared with a number: avg(cpu_usage{host="a"}) by (host) > 80',
    ),
    h(
      'div',
      { className: 'field-row' },
      field(
        'duration',
        'For',
        h('input', { type: 'text', value: rule?.duration ?? '5m', required: true }),
        'how long before it fires',
      ),
      field('window', 'Window', h('input', { type: 'text', value: rule?.window ?? '1m' })),
      field(
        'interval',
        'Interval',
        h('input', { type: 'text', value: rule?.interval ?? '', placeholder: 'service default' }),
      ),
      field('severity', 'Severity', severity),
    ),
    h(
      'fieldset',
      { className: 'field', 'data-field': 'channels' },
      h('legend', {}, 'Channels'),
      ...channelBoxes.map((entry) => entry.element),
      field('channels', 'Other channel names (comma-separated)', otherChannels),
    ),
    h(
      'div',
      { className: 'field-row' },
      field('labels', 'Labels (name=value per line)', labels),
      field('annotations', 'Annotations (name=value per line)', annotations),
    ),
    h('span', { className: 'checkbox' }, enabled, h('label', { for: enabled.id }, 'Enabled')),
    general,
    h('div', { className: 'toolbar' }, submit, h('button', { type: 'button', onclick: cancel }, 'Cancel')),
  );

  const clearErrors = () => {
    for (const error of errors.values()) error.replaceChildren();
    for (const input of inputs.values()) input.removeAttribute('aria-invalid');
    general.replaceChildren();
  };

  const showFieldError = (name: FormField, ...content: (Node | string)[]) => {
    errors.get(name)!.append(...content.map((part) => (typeof part === 'string' ? h('div', {}, part) : part)));
    inputs.get(name)!.setAttribute('aria-invalid', 'true');
  };

  element.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors();
    const body: Record<string, unknown> = {
      name: nameInput.value.trim(),
      query: queryInput.value,
      duration: inputs.get('duration')!.value.trim(),
      channels: [
        ...channelBoxes.filter((entry) => entry.box.checked).map((entry) => entry.box.value),
        ...otherChannels.value
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean),
      ],
      severity: severity.value,
      enabled: enabled.checked,
    };
    const window = inputs.get('window')!.value.trim();
    const interval = inputs.get('interval')!.value.trim();
    if (window) body.window = window;
    if (interval) body.interval = interval;
    const parsedLabels = parsePairs(labels.value);
    const parsedAnnotations = parsePairs(annotations.value);
    if (typeof parsedLabels === 'string') return showFieldError('labels', parsedLabels);
    if (typeof parsedAnnotations === 'string') return showFieldError('annotations', parsedAnnotations);
    body.labels = parsedLabels;
    body.annotations = parsedAnnotations;
    submit.disabled = true;
    save(body)
      .catch((error: unknown) => {
        showProblems(error);
        const firstInvalid = element.querySelector<HTMLElement>('[aria-invalid="true"]');
        firstInvalid?.focus();
      })
      .finally(() => {
        submit.disabled = false;
      });
  });

  function showProblems(error: unknown) {
    if (!(error instanceof ApiFailure)) return general.replaceChildren(errorText(describe(error)));
    const { body } = error;
    if (typeof body.position === 'number') {
      const text = typeof body.translated_query === 'string' ? body.translated_query : queryInput.value;
      showFieldError(
        'query',
        `${body.message} (${body.code})`,
        h(
          'pre',
          { className: 'caret' },
          h('span', {}, text),
          '\n',
          h('span', { className: 'caret-mark' }, `${' '.repeat(body.position)}^`),
        ),
        typeof body.translated_query === 'string'
          ? 'The position is in the query sent to the query engine, shown above.'
          : '',
      );
      if (typeof body.translated_query !== 'string') {
        queryInput.setSelectionRange(body.position, body.position + 1);
      }
      return;
    }
    if (body.code === 'rule_exists' || body.code === 'rule_name_mismatch') return showFieldError('name', body.message);
    if (Array.isArray(body.problems)) {
      const unplaced: string[] = [];
      for (const problem of body.problems) {
        const name = String(problem).split(/[:.\s[]/)[0] as FormField;
        if (FORM_FIELDS.includes(name)) showFieldError(name, String(problem));
        else unplaced.push(String(problem));
      }
      if (unplaced.length > 0) general.replaceChildren(errorText(unplaced.join('; ')));
      return;
    }
    general.replaceChildren(errorText(describe(error)));
  }

  return { element, focus: () => (rule ? queryInput : nameInput).focus() };
}

const pairsText = (pairs: Record<string, string> | undefined) =>
  Object.entries(pairs ?? {})
    .map(([name, value]) => `${name}=${value}`)
    .join('\n');

/** `name=value` lines into an object, or a message naming the first bad line. */
function parsePairs(text: string): Record<string, string> | string {
  const pairs: Record<string, string> = {};
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const separator = line.indexOf('=');
    if (separator <= 0) return `line ${index + 1}: expected name=value`;
    pairs[line.slice(0, separator).trim()] = line.slice(separator + 1).trim();
  }
  return pairs;
}
