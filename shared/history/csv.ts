/**
 * CSV as RFC 4180 writes it: a header row, CRLF line ends (the last row too), and a field quoted when it holds a comma,
 * a double quote, CR or LF, its double quotes doubled. `null` is an empty field, booleans are `true`/`false`.
 */
export type CsvValue = string | number | boolean | null | undefined;

const field = (value: CsvValue): string => {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export const toCsv = <Column extends string>(
  columns: readonly Column[],
  rows: ReadonlyArray<Record<Column, CsvValue>>,
): string =>
  [columns, ...rows.map((row) => columns.map((column) => row[column]))]
    .map((values) => `${values.map(field).join(',')}\r\n`)
    .join('');

/** The media type of a CSV answer (RFC 4180 registers `text/csv`; the charset says how to read non-ASCII). */
export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
