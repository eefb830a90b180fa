import type { ReplayChart } from './replay.ts';

/**
 * The rolling totals of a replay against their limits, as a standalone SVG: one line per rule
 * (its measure as a share of its trip level, peak per interval), the limit at 100 %, the warn
 * level dashed, and a vertical line at each trip.
 */

const WIDTH = 1060;
const HEIGHT = 460;
const MARGIN = { left: 64, right: 340, top: 40, bottom: 48 };
const COLOURS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#393b79',
];

export function renderChartSvg(chart: ReplayChart, title: string): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const n = Math.max(1, ...chart.series.map((s) => s.ratios.length));
  const totalS = n * chart.intervalS;
  const peak = Math.max(0, ...chart.series.flatMap((s) => s.ratios.filter(Number.isFinite)));
  // Show up to 4× the limit; a drain far above that is clipped at the top (the trip line tells the story).
  const yMax = Math.min(4, Math.max(1.2, Math.ceil(peak * 5) / 5));
  const x = (s: number) => MARGIN.left + (s / totalS) * plotW;
  const y = (ratio: number) => MARGIN.top + plotH - (Math.min(ratio, yMax) / yMax) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${xmlEscape(title)}</text>`,
  );
  // Y grid in 20 % (or 50 %) steps.
  const step = yMax > 2 ? 0.5 : 0.2;
  for (let r = 0; r <= yMax + 1e-9; r += step) {
    out.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(y(r))}" y2="${f(y(r))}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${f(y(r) + 4)}" text-anchor="end">${Math.round(r * 100)}%</text>`,
    );
  }
  // X axis in hours (or days for long scenarios).
  const hours = totalS / 3600;
  const unit = hours > 72 ? 86_400 : 3600;
  const unitName = unit === 86_400 ? 'd' : 'h';
  const every = Math.max(1, Math.ceil(totalS / unit / 12));
  for (let k = 0; k * unit <= totalS; k += every) {
    out.push(
      `<line x1="${f(x(k * unit))}" x2="${f(x(k * unit))}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH + 4}" stroke="#333"/>`,
      `<text x="${f(x(k * unit))}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${k}${unitName}</text>`,
    );
  }
  out.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">time since scenario start</text>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(y(1))}" y2="${f(y(1))}" stroke="#d62728" stroke-width="1.5"/>`,
    `<text x="${MARGIN.left + plotW - 4}" y="${f(y(1) - 4)}" text-anchor="end" fill="#d62728">limit</text>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${f(y(chart.warnRatio))}" y2="${f(y(chart.warnRatio))}" stroke="#d62728" stroke-dasharray="5,4" opacity="0.6"/>`,
    `<text x="${MARGIN.left + plotW - 4}" y="${f(y(chart.warnRatio) - 4)}" text-anchor="end" fill="#d62728" opacity="0.8">warn</text>`,
  );
  chart.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length] as string;
    const points = s.ratios
      .map((r, k) => `${f(x((k + 0.5) * chart.intervalS))},${f(y(Number.isFinite(r) ? r : yMax))}`)
      .join(' ');
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.4" points="${points}"/>`);
    const ly = MARGIN.top + 10 + i * 18;
    const top = Math.max(...s.ratios);
    out.push(
      `<line x1="${WIDTH - MARGIN.right + 16}" x2="${WIDTH - MARGIN.right + 36}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${WIDTH - MARGIN.right + 42}" y="${ly + 4}">${xmlEscape(s.ruleId)} (peak ${Number.isFinite(top) ? Math.round(top * 100) : '∞'}%)</text>`,
    );
  });
  for (const trip of chart.trips) {
    out.push(
      `<line x1="${f(x(trip.atS))}" x2="${f(x(trip.atS))}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#000" stroke-width="1.5"/>`,
      `<text x="${f(x(trip.atS) + 4)}" y="${MARGIN.top + 12}">TRIP ${xmlEscape(trip.ruleId)}</text>`,
    );
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function f(v: number): string {
  return v.toFixed(1);
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
