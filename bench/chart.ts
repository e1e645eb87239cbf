/** A small SVG bar chart of measured ratios against their targets (no chart library needed for one picture). */
export const renderChart = (bars: Array<{ label: string; value: number; target: number }>): string => {
  const width = 760;
  const rowHeight = 26;
  const left = 190;
  const max = Math.max(2, ...bars.map((bar) => Math.max(bar.value, bar.target))) * 1.05;
  const x = (value: number) => left + (value / max) * (width - left - 60);
  const rows = bars.map((bar, index) => {
    const y = 30 + index * rowHeight;
    const colour = bar.value <= bar.target ? '#2e7d32' : '#c62828';
    return [
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${bar.label}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${(x(bar.value) - left).toFixed(1)}" height="16" fill="${colour}"/>`,
      `<line x1="${x(bar.target).toFixed(1)}" x2="${x(bar.target).toFixed(1)}" y1="${y}" y2="${y + 22}" stroke="#000" stroke-dasharray="3,2"/>`,
      `<text x="${(x(bar.value) + 4).toFixed(1)}" y="${y + 15}" font-size="11">${bar.value.toFixed(2)}x</text>`,
    ].join('');
  });
  const height = 40 + bars.length * rowHeight;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/><text x="10" y="18" font-size="13" font-weight="bold">Measured ratio vs target (dashed); green meets it, red does not</text>${rows.join('')}</svg>\n`;
};
