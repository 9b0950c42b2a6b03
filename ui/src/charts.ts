// Charts as SVG drawn here (no library): a stacked column chart and a horizontal bar chart. Each
// has a text alternative (a <title> per bar, and the numbers in a table the caller adds).
import { svg, numberFormat } from './dom.js';

export interface Series {
  key: string;
  label: string;
}

/** Columns stacked by series, one per category (e.g. days by severity). */
export function stackedColumns(
  categories: readonly string[],
  series: readonly Series[],
  value: (category: number, series: string) => number,
  opts: { label: string; tickEvery?: number } = { label: 'chart' },
): SVGSVGElement {
  const width = 760;
  const height = 240;
  const left = 40;
  const bottom = 28;
  const top = 10;
  const plotW = width - left - 8;
  const plotH = height - bottom - top;
  const totals = categories.map((_, i) => series.reduce((n, s) => n + value(i, s.key), 0));
  const max = Math.max(1, ...totals);
  const step = plotW / Math.max(1, categories.length);
  const barW = Math.max(2, step * 0.7);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': opts.label, class: 'chart', preserveAspectRatio: 'xMidYMid meet' });
  for (const frac of [0, 0.5, 1]) {
    const v = Math.round(max * frac);
    chart.append(
      svg('line', { x1: left, x2: width - 8, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, numberFormat.format(v)),
    );
  }
  const every = opts.tickEvery ?? Math.ceil(categories.length / 8);
  categories.forEach((cat, i) => {
    const x = left + i * step + (step - barW) / 2;
    let base = 0;
    for (const s of series) {
      const v = value(i, s.key);
      if (v <= 0) continue;
      chart.append(
        svg(
          'rect',
          { x, y: y(base + v), width: barW, height: Math.max(1, y(base) - y(base + v)), class: `bar bar-${s.key}` },
          svg('title', {}, `${cat}: ${numberFormat.format(v)} ${s.label}`),
        ),
      );
      base += v;
    }
    if (i % every === 0 || (i === categories.length - 1 && i % every > every / 2))
      chart.append(svg('text', { x: x + barW / 2, y: height - 8, 'text-anchor': 'middle', class: 'axis' }, cat.slice(5)));
  });
  return chart;
}

/** Horizontal bars, one per item, longest first as given. */
export function horizontalBars(items: readonly { key: string; count: number }[], label: string): SVGSVGElement {
  const width = 360;
  const row = 24;
  const labelW = 150;
  const height = Math.max(row, items.length * row) + 4;
  const max = Math.max(1, ...items.map((i) => i.count));
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label, class: 'chart bars' });
  items.forEach((item, i) => {
    const y = i * row + 2;
    const w = ((width - labelW - 50) * item.count) / max;
    const name = item.key.length > 22 ? item.key.slice(0, 21) + '…' : item.key;
    chart.append(
      svg('text', { x: labelW - 6, y: y + 15, 'text-anchor': 'end', class: 'axis' }, svg('title', {}, item.key), name),
      svg(
        'rect',
        { x: labelW, y: y + 3, width: Math.max(1, w), height: row - 8, class: 'bar bar-single' },
        svg('title', {}, `${item.key}: ${numberFormat.format(item.count)}`),
      ),
      svg('text', { x: labelW + w + 6, y: y + 15, class: 'axis' }, numberFormat.format(item.count)),
    );
  });
  return chart;
}
