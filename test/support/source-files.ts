import { readdirSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';

/** The product's source directory, read by the shape guards (layers, function length). */
export const SRC = path.join(REPO_ROOT, 'src');

/** Every TypeScript file under a directory, recursively. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.(ts|mts)$/.test(e.name) ? [full] : [];
  });
}
