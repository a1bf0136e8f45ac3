// Hand-written SVG line charts for the dashboard: no chart library, a few hundred bytes of markup
// per chart. Each chart says in words what it shows (the figure's caption and the latest value of
// every series), so a screen reader gets the numbers without the picture.
import { useId } from 'react';

export interface Series {
  readonly name: string;
  /** One value per point; null leaves a gap. */
  readonly values: readonly (number | null)[];
  /** What the legend shows (a total, say); the latest value when absent. */
  readonly legend?: string;
}

/** Colours that keep 4.5:1 against white and differ for the common colour-vision deficiencies. */
export const palette = [
  '#1d4ed8',
  '#b45309',
  '#047857',
  '#7c3aed',
  '#be123c',
  '#0e7490',
  '#4d7c0f',
  '#9d174d',
];

const WIDTH = 480;
const HEIGHT = 220;
const PAD = { left: 64, right: 10, top: 12, bottom: 30 };

/** The next "round" number at or above `value` (1, 2, 2.5, 5 × 10^n). */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

function shortTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function LineChart(props: {
  title: string;
  times: readonly string[];
  series: readonly Series[];
  format?: (value: number) => string;
  empty?: string;
}) {
  const titleId = useId();
  const format = props.format ?? ((value: number) => String(value));
  const values = props.series.flatMap((series) => series.values.filter((v): v is number => v !== null));
  const minimum = Math.min(0, ...values);
  const maximum = niceCeiling(Math.max(...values, 0));
  const range = maximum - minimum || 1;
  const count = Math.max(props.times.length, 1);
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (index: number) => PAD.left + (count === 1 ? plotWidth : (index / (count - 1)) * plotWidth);
  const y = (value: number) => PAD.top + plotHeight - ((value - minimum) / range) * plotHeight;
  const ticks = minimum < 0 ? [minimum, 0, maximum] : [0, maximum / 2, maximum];
  const latest = props.series.map((series) => {
    const last = [...series.values].reverse().find((value) => value !== null);
    const text = series.legend ?? (last === undefined || last === null ? '—' : format(last));
    return { name: series.name, text };
  });
  const summary =
    props.series.length === 0
      ? (props.empty ?? 'No data yet.')
      : latest.map((item) => `${item.name}: ${item.text}`).join('; ');
  const xLabels =
    props.times.length > 0 ? [0, Math.floor((props.times.length - 1) / 2), props.times.length - 1] : [];
  return (
    <figure className="chart" aria-labelledby={titleId}>
      <figcaption id={titleId}>{props.title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${props.title}. ${summary}`}>
        {ticks.map((tick) => (
          <g key={tick}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} className="chart-grid" />
            <text x={PAD.left - 6} y={y(tick) + 4} textAnchor="end" className="chart-label">
              {format(tick)}
            </text>
          </g>
        ))}
        {[...new Set(xLabels)].map((index) => (
          <text
            key={index}
            x={x(index)}
            y={HEIGHT - 6}
            textAnchor={index === 0 ? 'start' : index === props.times.length - 1 ? 'end' : 'middle'}
            className="chart-label"
          >
            {shortTime(props.times[index] ?? '')}
          </text>
        ))}
        {props.series.map((series, seriesIndex) => {
          let path = '';
          let pen = false;
          series.values.forEach((value, index) => {
            if (value === null) {
              pen = false;
              return;
            }
            path += `${pen ? 'L' : 'M'}${x(index).toFixed(1)} ${y(value).toFixed(1)} `;
            pen = true;
          });
          const lastIndex = series.values.reduce<number>(
            (found, value, index) => (value === null ? found : index),
            -1,
          );
          const lastValue = series.values[lastIndex];
          return (
            <g key={series.name}>
              <path
                d={path.trim()}
                fill="none"
                stroke={palette[seriesIndex % palette.length]}
                strokeWidth={2}
                strokeLinejoin="round"
              />
              {lastValue !== null && lastValue !== undefined ? (
                <circle
                  cx={x(lastIndex)}
                  cy={y(lastValue)}
                  r={3.5}
                  fill={palette[seriesIndex % palette.length]}
                />
              ) : null}
            </g>
          );
        })}
      </svg>
      {props.series.length === 0 ? (
        <p className="chart-empty">{props.empty ?? 'No data yet.'}</p>
      ) : (
        <ul className="legend">
          {latest.map((item, index) => (
            <li key={item.name}>
              <span className="swatch" data-color={index % palette.length} aria-hidden="true" />
              {item.name}: <strong>{item.text}</strong>
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}
