/** Reads the input CSV for sending as is: byte for byte, which requires it to be UTF-8 (the body is signed as text). */
import { readFile } from 'node:fs/promises';
import { TextDecoder } from 'node:util';
import { UsageError } from './args.js';

export interface CsvFile {
  bytes: Buffer;
  text: string;
}

// ignoreBOM keeps a byte order mark in the text, so the text encodes back to exactly the bytes of the file.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export const readCsvFile = async (path: string): Promise<CsvFile> => {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${path}${code === 'ENOENT' ? ': no such file' : code ? `: ${code}` : ''}`);
  }
  try {
    return { bytes, text: utf8.decode(bytes) };
  } catch {
    throw new UsageError(`${path} is not UTF-8 text: save the CSV as UTF-8 and run again`);
  }
};
