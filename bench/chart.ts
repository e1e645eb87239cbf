/**
 * A small SVG bar chart of every target as "measured ÷ target", so one dashed line at 1.0 serves them all (no chart
 * library needed for one picture). Each bar is labelled with the measured figure and its target.
 */
export interface ChartBar {
  label: string;
  value: number;
  target: number;
  /** How the figures are written, e.g. '1.09x' or '593 kB'. */
  unit: 'x' | 'kB' | 'calls';
}

const show = (value: number, unit: ChartBar['unit']) =>
  unit === 'x'
    ? `${value.toFixed(2)}x`
    : `${Math.round(value)} ${unit === 'calls' && Math.round(value) === 1 ? 'call' : unit}`;

export const renderChart = (bars: ChartBar[]): string => {
  const width = 820;
  const rowHeight = 26;
  const left = 230;
  const max = Math.max(2, ...bars.map((bar) => bar.value / bar.target)) * 1.05;
  const x = (share: number) => left + (share / max) * (width - left - 150);
  const rows = bars.map((bar, index) => {
    const y = 30 + index * rowHeight;
    const share = bar.value / bar.target;
    const colour = share <= 1 ? '#2e7d32' : '#c62828';
    return [
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${bar.label}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${(x(share) - left).toFixed(1)}" height="16" fill="${colour}"/>`,
      `<text x="${(x(share) + 4).toFixed(1)}" y="${y + 15}" font-size="11">${show(bar.value, bar.unit)} (target ${show(bar.target, bar.unit)})</text>`,
    ].join('');
  });
  const height = 40 + bars.length * rowHeight;
  const line = `<line x1="${x(1).toFixed(1)}" x2="${x(1).toFixed(1)}" y1="26" y2="${height - 8}" stroke="#000" stroke-dasharray="3,2"/>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/><text x="10" y="18" font-size="13" font-weight="bold">Each figure against its target (dashed line = the target); green meets it, red does not</text>${rows.join('')}${line}</svg>\n`;
};
