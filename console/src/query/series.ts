/** A row of a query answer: `time`, the group's tag values (strings) and the value columns (numbers or null). */
export type Row = Record<string, unknown>;

export interface ChartSeries {
  label: string;
  column: string;
  tags: Record<string, string>;
  /** One value per entry of `ChartData.times`; null where the group has no row or the value is null. */
  values: (number | null)[];
}

export interface ChartData {
  times: number[];
  series: ChartSeries[];
  tagColumns: string[];
  valueColumns: string[];
}

/** Turns rows into one line per (group, value column), on the sorted union of the rows' times. */
export function toChartData(rows: readonly Row[]): ChartData {
  const tagColumns = new Set<string>();
  const valueColumns = new Set<string>();
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      if (name === 'time') continue;
      if (typeof value === 'string') tagColumns.add(name);
      else if (typeof value === 'number' || value === null) valueColumns.add(name);
    }
  }
  const tags = [...tagColumns].sort();
  const columns = [...valueColumns].filter((name) => !tagColumns.has(name));
  const times = [...new Set(rows.map((row) => Number(row.time)).filter(Number.isFinite))].sort((a, b) => a - b);
  const timeIndex = new Map(times.map((time, index) => [time, index]));
  const groups = new Map<string, { tags: Record<string, string>; byColumn: Map<string, (number | null)[]> }>();
  for (const row of rows) {
    const groupTags = Object.fromEntries(tags.map((name) => [name, typeof row[name] === 'string' ? row[name] : '']));
    const key = JSON.stringify(groupTags);
    let group = groups.get(key);
    if (!group) {
      group = { tags: groupTags, byColumn: new Map(columns.map((name) => [name, times.map(() => null)])) };
      groups.set(key, group);
    }
    const index = timeIndex.get(Number(row.time));
    if (index === undefined) continue;
    for (const name of columns) {
      const value = row[name];
      group.byColumn.get(name)![index] = typeof value === 'number' && Number.isFinite(value) ? value : null;
    }
  }
  const series: ChartSeries[] = [];
  for (const group of groups.values()) {
    for (const name of columns) {
      series.push({
        label: seriesLabel(name, group.tags, columns.length > 1),
        column: name,
        tags: group.tags,
        values: group.byColumn.get(name)!,
      });
    }
  }
  return { times, series, tagColumns: tags, valueColumns: columns };
}

function seriesLabel(column: string, tags: Record<string, string>, isColumnNamed: boolean): string {
  const pairs = Object.entries(tags).map(([name, value]) => `${name}="${value}"`);
  if (pairs.length === 0) return column;
  const selector = `{${pairs.join(', ')}}`;
  return isColumnNamed ? `${column}${selector}` : selector;
}

/** Points actually drawn (non-null values). */
export const countPoints = (data: ChartData) =>
  data.series.reduce((total, entry) => total + entry.values.filter((value) => value !== null).length, 0);
