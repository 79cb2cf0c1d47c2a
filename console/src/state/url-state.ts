import { RELATIVE_RANGES, type RelativeRange, type TimeRange } from '../query/time-range';

export type ExploreView = 'chart' | 'table';

/** Everything that makes an Explore view shareable: it lives in the URL's query string. */
export interface ExploreState {
  query: string;
  range: TimeRange;
  view: ExploreView;
}

export const DEFAULT_EXPLORE_STATE: ExploreState = {
  query: '',
  range: { kind: 'relative', last: '1h' },
  view: 'chart',
};

export function encodeExploreState(state: ExploreState): string {
  const params = new URLSearchParams();
  if (state.query !== '') params.set('q', state.query);
  switch (state.range.kind) {
    case 'relative':
      params.set('range', state.range.last);
      break;
    case 'absolute':
      params.set('from', String(state.range.from));
      params.set('to', String(state.range.to));
      break;
  }
  params.set('view', state.view);
  return params.toString();
}

/** Reads what `encodeExploreState` wrote; anything missing or malformed falls back to the defaults. */
export function decodeExploreState(search: string): ExploreState {
  const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const view = params.get('view');
  return {
    query: params.get('q') ?? DEFAULT_EXPLORE_STATE.query,
    range: decodeRange(params),
    view: view === 'table' || view === 'chart' ? view : DEFAULT_EXPLORE_STATE.view,
  };
}

function decodeRange(params: URLSearchParams): TimeRange {
  const from = Number(params.get('from') ?? Number.NaN);
  const to = Number(params.get('to') ?? Number.NaN);
  if (Number.isSafeInteger(from) && Number.isSafeInteger(to) && from <= to) return { kind: 'absolute', from, to };
  const last = params.get('range');
  if (RELATIVE_RANGES.includes(last as RelativeRange)) return { kind: 'relative', last: last as RelativeRange };
  return DEFAULT_EXPLORE_STATE.range;
}
