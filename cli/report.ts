/** Where the per-item report goes (next to the input) and how it gets there (whole, or not at all). */
import { rename, writeFile } from 'node:fs/promises';

/** `orders.csv` gives `orders.report.csv`; a name without `.csv` gets `.report.csv` appended. Never the input. */
export const reportPath = (input: string): string => `${input.replace(/\.csv$/i, '')}.report.csv`;

/** Through a temporary file, so an interrupted write never leaves half a report that looks whole. */
export const writeReport = async (path: string, csv: Uint8Array): Promise<void> => {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, csv);
  await rename(temporary, path);
};
