/** Where each operation's Lambda entry lives: `functions/<operation name>/index.ts`. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const functionEntry = (operationName: string): string =>
  resolve(PROJECT_ROOT, 'functions', operationName, 'index.ts');
