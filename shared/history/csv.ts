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

/**
 * Reads CSV as RFC 4180 writes it (quoted fields with doubled quotes, CRLF or LF, a trailing newline or none) into
 * rows of strings. Written by hand: the format is small, and a Lambda bundle need not carry a parser library for it.
 */
export const parseCsv = (text: string): string[][] => {
  const rows: string[][] = [];
  let row: string[] = [];
  let value = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] as string;
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        value += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else value += char;
    } else if (char === '"' && value === '') quoted = true;
    else if (char === ',') {
      row.push(value);
      value = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[index + 1] === '\n') index += 1;
      row.push(value);
      rows.push(row);
      row = [];
      value = '';
    } else value += char;
  }
  if (value !== '' || row.length > 0) {
    row.push(value);
    rows.push(row);
  }
  return rows.filter((cells) => !(cells.length === 1 && cells[0] === ''));
};
