import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { countPoints, type ChartData } from '../query/series';
import { formatNumber, formatTimestamp, h } from './dom';
import { cssVariable } from './theme';

/** Colour-blind-friendly palette (Okabe–Ito, then Tableau), readable on both themes. */
const PALETTE = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#d55e00',
  '#cc79a7',
  '#56b4e9',
  '#f0e442',
  '#8c564b',
  '#7f7f7f',
  '#17becf',
];

export const seriesColor = (index: number) => PALETTE[index % PALETTE.length];

/** Draws the answer with uPlot (one line per series) and keeps a hover tooltip with the exact value and time. */
export function drawChart(container: HTMLElement, data: ChartData): { destroy(): void } {
  container.replaceChildren();
  const tooltip = h('div', { className: 'chart-tooltip', role: 'status', hidden: true });
  const plotHost = h('div', { className: 'chart-plot' });
  container.append(plotHost, tooltip);
  const axisColor = cssVariable('--text-muted') || '#666';
  const gridColor = cssVariable('--grid') || 'rgba(128,128,128,0.2)';
  const pointFill = cssVariable('--bg') || '#fff';
  const axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } };
  const options: uPlot.Options = {
    width: Math.max(320, container.clientWidth || 800),
    height: 360,
    ms: 1,
    series: [
      { label: 'time' },
      ...data.series.map((entry, index) => ({
        label: entry.label,
        stroke: seriesColor(index),
        width: 1.5,
        spanGaps: false,
        points: { show: entry.values.filter((value) => value !== null).length < 60, fill: pointFill },
        value: (_plot: uPlot, value: number | null) => formatNumber(value),
      })),
    ],
    axes: [axis, { ...axis, size: 60 }],
    cursor: { focus: { prox: 24 } },
    focus: { alpha: 0.35 },
    legend: { live: true },
    plugins: [tooltipPlugin(tooltip, data)],
  };
  const plot = new uPlot(
    options,
    [data.times, ...data.series.map((entry) => entry.values)] as uPlot.AlignedData,
    plotHost,
  );
  container.dataset.series = String(data.series.length);
  container.dataset.points = String(countPoints(data));
  const resize = () => plot.setSize({ width: Math.max(320, container.clientWidth), height: 360 });
  const observer = new ResizeObserver(resize);
  observer.observe(container);
  return {
    destroy() {
      observer.disconnect();
      plot.destroy();
    },
  };
}

/** Shows the value of the series nearest the cursor (or every series when none is focused) at the hovered time. */
function tooltipPlugin(tooltip: HTMLElement, data: ChartData): uPlot.Plugin {
  let focusedSeries: number | null = null;
  return {
    hooks: {
      setSeries: (_plot: uPlot, seriesIndex: number | null, options: uPlot.Series) => {
        if ((options as { focus?: boolean }).focus !== undefined) focusedSeries = seriesIndex;
      },
      setCursor: (plot: uPlot) => {
        const index = plot.cursor.idx;
        if (index === null || index === undefined || plot.cursor.left === undefined || plot.cursor.left < 0) {
          tooltip.hidden = true;
          return;
        }
        const rows = data.series
          .map((entry, seriesIndex) => ({ entry, seriesIndex, value: entry.values[index] }))
          .filter((row) => row.value !== null && (focusedSeries === null || row.seriesIndex === focusedSeries - 1));
        if (rows.length === 0) {
          tooltip.hidden = true;
          return;
        }
        tooltip.replaceChildren(
          h('div', { className: 'chart-tooltip-time' }, formatTimestamp(data.times[index])),
          ...rows
            .slice(0, 12)
            .map((row) =>
              h(
                'div',
                { className: 'chart-tooltip-row' },
                h('span', { className: 'swatch', style: `background:${seriesColor(row.seriesIndex)}` }),
                h('span', { className: 'chart-tooltip-label' }, row.entry.label),
                h('strong', {}, String(row.value)),
              ),
            ),
        );
        tooltip.hidden = false;
        const left = plot.cursor.left + plot.over.offsetLeft + 12;
        const top = (plot.cursor.top ?? 0) + plot.over.offsetTop + 12;
        tooltip.style.left = `${Math.min(left, plot.over.offsetLeft + plot.over.clientWidth - 220)}px`;
        tooltip.style.top = `${top}px`;
      },
    },
  };
}
