import { ApiFailure, QUERY_URL, VALIDATE_URL, type ApiClient } from '../api/client';
import { FUNCTIONS, rankSuggestions, STATEMENT_KEYWORDS, type CompletionContext } from '../query/autocomplete';
import { toChartData, countPoints, type Row } from '../query/series';
import { applyRange, mapPositionToEditor, RELATIVE_RANGES, type RelativeRange } from '../query/time-range';
import { decodeExploreState, encodeExploreState, type ExploreState, type ExploreView } from '../state/url-state';
import { drawChart } from '../ui/chart';
import { createQueryEditor } from '../ui/editor';
import { errorText, formatNumber, formatTimestamp, h, replaceChildren, uniqueId } from '../ui/dom';
import type { Page, PageContext } from './context';

const METADATA_TTL_MS = 30_000;
const TABLE_ROW_LIMIT = 2000;
const EXAMPLE_QUERY = 'SELECT mean(value) FROM cpu_usage GROUP BY time(1m), host';

export function explorePage(context: PageContext): Page {
  let state: ExploreState = decodeExploreState(context.search());
  const metadata = new MetadataCache(context.api);
  let running: AbortController | undefined;
  let validating: AbortController | undefined;
  let validateTimer: ReturnType<typeof setTimeout> | undefined;
  let chart: { destroy(): void } | undefined;
  let lastRows: Row[] | undefined;

  const editor = createQueryEditor({
    label: 'Query',
    placeholder: EXAMPLE_QUERY,
    suggest: (completion) => suggestionsFor(metadata, completion),
    onRun: () => void run(),
    onInput: (text) => {
      clearTimeout(validateTimer);
      validateTimer = setTimeout(() => void validate(text), 350);
    },
  });
  editor.setValue(state.query);

  const rangeId = uniqueId('range');
  const rangeSelect = h(
    'select',
    { id: rangeId, onchange: () => onRangeChange() },
    ...RELATIVE_RANGES.map((last) => h('option', { value: last }, `Last ${last}`)),
    h('option', { value: 'custom' }, 'Custom…'),
  );
  const fromInput = h('input', { type: 'datetime-local', step: '1', 'aria-label': 'From' });
  const toInput = h('input', { type: 'datetime-local', step: '1', 'aria-label': 'To' });
  const customRange = h(
    'fieldset',
    { className: 'custom-range', hidden: true },
    h('legend', {}, 'Custom range'),
    h('label', {}, 'From ', fromInput),
    h('label', {}, 'To ', toInput),
  );
  const viewButtons = (['chart', 'table'] as ExploreView[]).map((view) =>
    h(
      'button',
      { type: 'button', className: 'toggle', 'data-view': view, onclick: () => setView(view) },
      view === 'chart' ? 'Chart' : 'Table',
    ),
  );
  const summary = h('p', { className: 'summary', role: 'status', 'aria-live': 'polite' });
  const errorArea = h('div', {});
  const chartArea = h('div', { className: 'chart', 'aria-label': 'Chart of the query answer', role: 'figure' });
  const tableArea = h('div', { className: 'table-wrap' });

  const element = h(
    'section',
    { className: 'page explore', 'aria-labelledby': 'explore-title' },
    h('h1', { id: 'explore-title' }, 'Explore'),
    h(
      'form',
      {
        className: 'query-form',
        onsubmit: (event: Event) => {
          event.preventDefault();
          void run();
        },
      },
      editor.element,
      h(
        'div',
        { className: 'toolbar' },
        h('label', { for: rangeId }, 'Time range'),
        rangeSelect,
        customRange,
        h('button', { type: 'submit', className: 'primary' }, 'Run query'),
        h('button', { type: 'button', onclick: () => void run(), 'aria-label': 'Refresh' }, '↻ Refresh'),
        h('div', { className: 'segmented', role: 'group', 'aria-label': 'View' }, ...viewButtons),
      ),
    ),
    summary,
    errorArea,
    chartArea,
    tableArea,
  );

  function showRangeControls() {
    if (state.range.kind === 'relative') {
      rangeSelect.value = state.range.last;
      customRange.hidden = true;
    } else {
      rangeSelect.value = 'custom';
      customRange.hidden = false;
      fromInput.value = toLocalInput(state.range.from);
      toInput.value = toLocalInput(state.range.to);
    }
  }

  function onRangeChange() {
    if (rangeSelect.value === 'custom') {
      const to = Date.now();
      const from = to - 3_600_000;
      if (state.range.kind !== 'absolute') state = { ...state, range: { kind: 'absolute', from, to } };
      showRangeControls();
      fromInput.focus();
      return;
    }
    state = { ...state, range: { kind: 'relative', last: rangeSelect.value as RelativeRange } };
    showRangeControls();
    void run();
  }

  const readCustomRange = () => {
    const from = new Date(fromInput.value).getTime();
    const to = new Date(toInput.value).getTime();
    if (Number.isFinite(from) && Number.isFinite(to) && from <= to)
      state = { ...state, range: { kind: 'absolute', from, to } };
  };
  fromInput.addEventListener('change', readCustomRange);
  toInput.addEventListener('change', readCustomRange);

  function setView(view: ExploreView) {
    state = { ...state, view };
    context.setSearch(encodeExploreState(state));
    showView();
  }

  function showView() {
    for (const button of viewButtons) button.setAttribute('aria-pressed', String(button.dataset.view === state.view));
    chartArea.hidden = state.view !== 'chart';
    tableArea.hidden = state.view !== 'table';
    if (lastRows) renderRows(lastRows);
  }

  async function validate(text: string) {
    validating?.abort();
    if (text.trim() === '') return editor.clearError();
    validating = new AbortController();
    try {
      await context.api.json('POST', VALIDATE_URL, { query: text }, validating.signal);
      editor.clearError();
    } catch (error) {
      if (error instanceof ApiFailure && error.status === 400 && typeof error.body.position === 'number')
        editor.showError(error.body.message, error.body.position);
    }
  }

  async function run() {
    const query = editor.value().trim() === '' ? '' : editor.value();
    state = { ...state, query };
    context.setSearch(encodeExploreState(state));
    running?.abort();
    errorArea.replaceChildren();
    if (query === '') {
      summary.textContent = 'Type a query, for example: ' + EXAMPLE_QUERY;
      return;
    }
    const ranged = applyRange(query, state.range);
    running = new AbortController();
    const started = performance.now();
    summary.textContent = 'Running…';
    try {
      const answer = await context.api.json<{ series: Row[]; partial?: boolean; missing_shards?: string[] }>(
        'POST',
        QUERY_URL,
        { query: ranged.text },
        running.signal,
      );
      editor.clearError();
      lastRows = answer.series;
      const elapsed = Math.round(performance.now() - started);
      const data = toChartData(answer.series);
      summary.textContent =
        `${data.series.length} series, ${countPoints(data)} points, ${answer.series.length} rows · ${elapsed} ms` +
        (ranged.isRangeApplied ? '' : ' · time range from the query') +
        (answer.partial ? ` · partial: missing ${answer.missing_shards?.join(', ')}` : '');
      renderRows(answer.series);
    } catch (error) {
      if ((error as Error).name === 'AbortError') return;
      summary.textContent = '';
      lastRows = undefined;
      chart?.destroy();
      chart = undefined;
      chartArea.replaceChildren();
      tableArea.replaceChildren();
      if (error instanceof ApiFailure && typeof error.body.position === 'number') {
        const position = mapPositionToEditor(error.body.position, ranged.insertions, query.length);
        editor.showError(error.body.message.replace(` at ${error.body.position}`, ` at ${position}`), position);
      } else {
        errorArea.replaceChildren(errorText(describe(error)));
      }
    }
  }

  function renderRows(rows: Row[]) {
    chart?.destroy();
    chart = undefined;
    const data = toChartData(rows);
    if (state.view === 'chart') {
      if (data.series.length === 0 || data.times.length === 0) {
        replaceChildren(
          chartArea,
          h('p', { className: 'empty' }, 'Nothing to chart: the answer has no numeric series.'),
        );
        chartArea.dataset.series = '0';
        chartArea.dataset.points = '0';
      } else {
        chart = drawChart(chartArea, data);
      }
    } else {
      renderTable(tableArea, rows, ['time', ...data.tagColumns, ...data.valueColumns]);
    }
  }

  const onThemeChange = () => lastRows && state.view === 'chart' && renderRows(lastRows);
  window.addEventListener('themechange', onThemeChange);
  showRangeControls();
  showView();
  if (state.query !== '') void run();
  else summary.textContent = 'Type a query, for example: ' + EXAMPLE_QUERY;
  queueMicrotask(() => editor.textarea.focus());

  return {
    element,
    leave() {
      running?.abort();
      validating?.abort();
      clearTimeout(validateTimer);
      chart?.destroy();
      window.removeEventListener('themechange', onThemeChange);
    },
  };
}

function renderTable(container: HTMLElement, rows: Row[], preferred: string[]) {
  const columns = [...new Set([...preferred, ...rows.flatMap((row) => Object.keys(row))])].filter((column) =>
    rows.some((row) => column in row),
  );
  const shown = rows.slice(0, TABLE_ROW_LIMIT);
  replaceChildren(
    container,
    h(
      'table',
      { className: 'data' },
      h('caption', { className: 'visually-hidden' }, 'Query answer'),
      h('thead', {}, h('tr', {}, ...columns.map((column) => h('th', { scope: 'col' }, column)))),
      h(
        'tbody',
        {},
        ...shown.map((row) =>
          h(
            'tr',
            {},
            ...columns.map((column) => {
              const value = row[column];
              if (column === 'time' && typeof value === 'number')
                return h('td', { title: new Date(value).toISOString() }, formatTimestamp(value));
              if (typeof value === 'number') return h('td', { className: 'number' }, formatNumber(value));
              return h('td', {}, value === null || value === undefined ? '—' : String(value));
            }),
          ),
        ),
      ),
    ),
    rows.length > shown.length &&
      h('p', { className: 'summary' }, `Showing the first ${TABLE_ROW_LIMIT} of ${rows.length} rows.`),
  );
}

async function suggestionsFor(
  metadata: MetadataCache,
  context: Exclude<CompletionContext, { kind: 'none' }>,
): Promise<string[]> {
  switch (context.kind) {
    case 'keyword':
      return rankSuggestions(STATEMENT_KEYWORDS, context.prefix);
    case 'function':
      return rankSuggestions(FUNCTIONS, context.prefix);
    case 'field':
      return rankSuggestions(['value'], context.prefix);
    case 'measurement':
      return rankSuggestions(await metadata.measurements(), context.prefix);
    case 'tagKey': {
      const keys = await metadata.tagKeys(context.measurement);
      return rankSuggestions(context.allowsTime ? [...keys, 'time'] : keys, context.prefix);
    }
    case 'tagValue':
      return rankSuggestions(await metadata.tagValues(context.measurement, context.key), context.prefix);
  }
}

/** Measurements, tag keys and tag values from SHOW statements (tenant-scoped by the query service), kept briefly. */
class MetadataCache {
  private readonly entries = new Map<string, { at: number; values: Promise<string[]> }>();

  constructor(private readonly api: ApiClient) {}

  measurements() {
    return this.show('SHOW MEASUREMENTS', 'name');
  }

  tagKeys(measurement: string | undefined) {
    return this.show(`SHOW TAG KEYS${measurement ? ` FROM ${identifier(measurement)}` : ''}`, 'tagKey');
  }

  tagValues(measurement: string | undefined, key: string) {
    const from = measurement ? ` FROM ${identifier(measurement)}` : '';
    return this.show(`SHOW TAG VALUES${from} WITH KEY = ${identifier(key)}`, 'value');
  }

  private show(statement: string, column: string): Promise<string[]> {
    const cached = this.entries.get(statement);
    if (cached && Date.now() - cached.at < METADATA_TTL_MS) return cached.values;
    const values = this.api
      .json<{ series: Row[] }>('POST', QUERY_URL, { query: statement })
      .then((answer) => [...new Set(answer.series.map((row) => String(row[column])))].sort());
    values.catch(() => this.entries.delete(statement));
    this.entries.set(statement, { at: Date.now(), values });
    return values;
  }
}

const identifier = (name: string) =>
  /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) ? name : `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

function toLocalInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 19);
}

export function describe(error: unknown): string {
  if (error instanceof ApiFailure)
    return `${error.body.message} (${error.body.code}${error.status ? `, ${error.status}` : ''})`;
  return String(error);
}
