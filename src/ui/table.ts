/**
 * Plain-text tables in kubectl's style: upper-case headers, columns separated by three spaces, no borders.
 * Width is measured without ANSI colour codes so coloured cells still line up.
 */
const ansiPattern = /\x1b\[[0-9;]*m/g;

function visibleWidth(text: string): number {
  return text.replace(ansiPattern, '').length;
}

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(visibleWidth(header), ...rows.map((row) => visibleWidth(row[column] ?? ''))),
  );
  const renderRow = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column]! - visibleWidth(cell))))
      .join('   ')
      .trimEnd();
  return [renderRow(headers.map((header) => header.toUpperCase())), ...rows.map(renderRow)].join('\n');
}
