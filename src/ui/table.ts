/**
 * Plain-text tables in kubectl's style: upper-case headers, columns separated by three spaces, no borders.
 * Width is measured without ANSI colour codes so coloured cells still line up.
 */
const ansiPattern = /\x1b\[[0-9;]*m/g;

function visibleWidth(text: string): number {
  return text.replace(ansiPattern, '').length;
}

/** Each column's width over the headers and the rows. */
export function columnWidths(headers: string[], rows: string[][]): number[] {
  return headers.map((header, column) => Math.max(visibleWidth(header), ...rows.map((row) => visibleWidth(row[column] ?? ''))));
}

/** One line of a table whose columns have `widths`; a wider cell pushes the rest of its line along. */
export function renderRow(cells: string[], widths: number[]): string {
  return cells
    .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(Math.max(0, (widths[column] ?? 0) - visibleWidth(cell)))))
    .join('   ')
    .trimEnd();
}

/** The table; `headers: false` (kubectl's --no-headers) leaves out the header line but keeps its widths. */
export function renderTable(headers: string[], rows: string[][], options: { headers?: boolean } = {}): string {
  const widths = columnWidths(options.headers === false ? headers.map(() => '') : headers, rows);
  const lines = rows.map((row) => renderRow(row, widths));
  return (options.headers === false ? lines : [renderRow(headers.map((header) => header.toUpperCase()), widths), ...lines]).join('\n');
}
