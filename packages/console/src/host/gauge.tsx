/**
 * The count as a half-circle gauge, drawn by hand in SVG: the arc fills up to the current count,
 * with a tick at each threshold (servers at 5, clients at 25 by default) and the count in words
 * for screen readers.
 */
import { t } from '../common/i18n.js';

const R = 80;
const CX = 100;
const CY = 95;

function point(fraction: number, radius: number): [number, number] {
  const angle = Math.PI * (1 - fraction);
  return [CX + radius * Math.cos(angle), CY - radius * Math.sin(angle)];
}

function arc(from: number, to: number): string {
  const [x1, y1] = point(from, R);
  const [x2, y2] = point(to, R);
  return `M ${x1.toFixed(2)} ${y1.toFixed(2)} A ${R} ${R} 0 0 1 ${x2.toFixed(2)} ${y2.toFixed(2)}`;
}

export function Gauge(props: { count: number; client: number; server: number; days: number }) {
  const max = Math.max(Math.ceil(props.client * 1.4), props.count + 5);
  const fill = Math.min(props.count / max, 1);
  const colour = props.count >= props.client ? '#1d6b2f' : props.count >= props.server ? '#8a4b00' : '#a4161a';
  const ticks = [
    { n: props.server, label: t('console.ov.serverThreshold', { count: props.server }) },
    { n: props.client, label: t('console.ov.clientThreshold', { count: props.client }) },
  ];
  return (
    <figure class="gauge" data-testid="gauge" data-count={props.count}>
      <svg
        viewBox="-16 -16 232 146"
        width="320"
        role="img"
        aria-label={t('console.ov.gaugeLabel', {
          count: props.count,
          client: props.client,
          server: props.server,
          days: props.days,
        })}
      >
        <path d={arc(0, 1)} fill="none" stroke="#d5d9df" stroke-width="16" />
        {fill > 0 && <path d={arc(0, fill)} fill="none" stroke={colour} stroke-width="16" />}
        {ticks.map((tick, i) => {
          const f = Math.min(tick.n / max, 1);
          const [x1, y1] = point(f, R - 12);
          const [x2, y2] = point(f, R + 12);
          const [tx, ty] = point(f, R + 22);
          return (
            <g>
              <line x1={x1} y1={y1} x2={x2} y2={y2} stroke="#1a1a1a" stroke-width="2" />
              <text x={tx} y={ty - (i === 0 ? 0 : 2)} font-size="9" text-anchor="middle">
                {tick.n}
              </text>
            </g>
          );
        })}
        <text x={CX} y={CY - 8} font-size="30" font-weight="700" text-anchor="middle" data-testid="gauge-count">
          {props.count}
        </text>
        <text x={CX} y={CY + 12} font-size="9" text-anchor="middle">
          {t('console.ov.window', { days: props.days })}
        </text>
      </svg>
      <figcaption>
        <ul>
          {ticks.map((tick) => (
            <li>{tick.label}</li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
