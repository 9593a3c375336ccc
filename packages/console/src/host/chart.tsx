/** The count over 30 or 90 days with uPlot, the two thresholds as flat lines. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'preact/hooks';
import { day, lang, t, when } from '../common/i18n.js';
import type { CountHistory } from './types.js';

/** The samples, with an empty point at the window's start so that the chart always spans it. */
function seriesOf(h: CountHistory): uPlot.AlignedData {
  const xs = h.points.map((p) => new Date(p.at).getTime() / 1000);
  const counts: (number | null)[] = h.points.map((p) => p.count);
  const start = (xs[xs.length - 1] ?? Date.now() / 1000) - h.days * 86400;
  if (xs.length === 0 || xs[0]! > start) {
    xs.unshift(start);
    counts.unshift(null);
  }
  return [xs, counts, xs.map(() => h.thresholds.client), xs.map(() => h.thresholds.server)];
}

export function CountChart({ history }: { history: CountHistory }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const el = box.current!;
    const width = Math.max(280, el.clientWidth || 600);
    plot.current = new uPlot(
      {
        width,
        height: 240,
        series: [
          { label: t('console.col.at'), value: (_u, v) => (v === null ? '' : when(v * 1000)) },
          { label: t('console.col.count'), stroke: '#0b5cad', width: 2, fill: 'rgba(11,92,173,0.12)' },
          {
            label: t('console.ov.clientThreshold', { count: history.thresholds.client }),
            stroke: '#1d6b2f',
            dash: [6, 4],
          },
          {
            label: t('console.ov.serverThreshold', { count: history.thresholds.server }),
            stroke: '#8a4b00',
            dash: [2, 4],
          },
        ],
        scales: {
          // headroom above the highest point, so the axis names a value above it
          y: { range: (_u, _min, max) => [0, Math.ceil(Math.max(max * 1.15, history.thresholds.client + 5))] },
        },
        axes: [{ values: (_u, ticks) => ticks.map((s) => day(s * 1000)) }, {}],
      },
      seriesOf(history),
      el,
    );
    const resize = () => plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 240 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current?.destroy();
    };
  }, [history.days, history.thresholds.client, history.thresholds.server, lang()]);
  useEffect(() => plot.current?.setData(seriesOf(history)), [history]);
  const last = history.points[history.points.length - 1];
  return (
    <figure>
      <div
        class="chart"
        ref={box}
        role="img"
        aria-label={t('console.ov.chart', { days: history.days })}
        data-testid="count-chart"
        data-last={last?.count ?? ''}
      />
      <figcaption data-testid="chart-last">
        {last ? `${when(last.at)}: ${t('console.col.count')} ${last.count}` : t('common.noRows')}
      </figcaption>
    </figure>
  );
}
