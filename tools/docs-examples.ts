// The examples README.md and docs/*.md show, run for real: one definition of what
// an example is, used by `npm run docs:examples` (rewrites the shown output from
// real runs) and by test/readme-examples.test.ts (fails when a run no longer
// prints what the page shows).
//
// An example is a ```console block line `$ kubectl mesh-doctor ...` with the
// lines under it. `...` stands for lines left out; a line ending in `...` is
// the start of a longer one. Only examples that run offline (on a snapshot in
// the repository: `--from`, or `explain`/`docs`) are run; a live-cluster
// example is prose.
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellWords } from '../src/capture/shell-words.js';

export const REPO = fileURLToPath(new URL('../', import.meta.url));
const PREFIX = 'kubectl mesh-doctor ';

export interface Example {
  command: string;
  shown: string[];
  /** Some lines were left out (a `...` line, or a line ending in `...`). */
  elided: boolean;
}

/** The pages whose console blocks are examples, relative to the repository. */
export async function examplePages(): Promise<string[]> {
  const docs = (await readdir(path.join(REPO, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...docs.sort()];
}

export function runsOffline(command: string): boolean {
  if (!command.startsWith(PREFIX) || command.includes('|')) return false;
  const args = shellWords(command.slice(PREFIX.length));
  return args.includes('--from') || ['explain', 'docs'].includes(args[0] ?? '');
}

/** The offline examples of a page's console blocks, in order. */
export function examples(markdown: string): Example[] {
  const found: Example[] = [];
  for (const block of markdown.matchAll(/```console\n([\s\S]*?)```/g)) {
    let current: Example | undefined;
    for (const line of block[1].split('\n')) {
      if (line.startsWith('$ ')) {
        current = { command: line.slice(2), shown: [], elided: false };
        found.push(current);
      } else if (current && line.trim() === '...') current.elided = true;
      else if (current && line.trim()) {
        current.shown.push(line.trimEnd());
        if (line.trimEnd().endsWith('...')) current.elided = true;
      }
    }
  }
  return found.filter((e) => runsOffline(e.command));
}

export interface Run {
  stdout: string;
  exitCode: number;
}

/** Runs an example as the test's CLI does: the development entry point, no colour, 160 columns. */
export function runExample(command: string): Promise<Run> {
  const args = shellWords(command.slice(PREFIX.length));
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO, 'bin/dev.js'), ...args], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1', COLUMNS: '160', FORCE_COLOR: '0' },
      maxBuffer: 64 * 1024 * 1024,
    }, (error, stdout) => {
      const code = (error as { code?: unknown } | null)?.code;
      resolve({ stdout: String(stdout), exitCode: error ? (typeof code === 'number' ? code : 1) : 0 });
    });
  });
}

/** The lines of a run as a page shows them: trailing blanks trimmed, blank lines dropped. */
export function shownLines(stdout: string): string[] {
  return stdout.split('\n').map((l) => l.trimEnd()).filter((l) => l);
}

/**
 * Where the run differs from what the page shows, or undefined. A whole example
 * (nothing elided) must be the whole output; an elided one must show its lines
 * in order (a line ending in `...` matches a longer one).
 */
export function difference(example: Example, run: Run): string | undefined {
  if (![0, 3].includes(run.exitCode)) return `exit ${run.exitCode}`;
  const out = shownLines(run.stdout);
  if (!example.elided) {
    return out.join('\n') === example.shown.join('\n') ? undefined : `the page shows:\n${example.shown.join('\n')}\nbut the run printed:\n${out.join('\n')}`;
  }
  let at = 0;
  for (const shown of example.shown) {
    const prefix = shown.endsWith('...') ? shown.slice(0, -3) : undefined;
    const index = out.findIndex((l, i) => i >= at && (prefix !== undefined ? l.startsWith(prefix) : l === shown));
    if (index < 0) return `the page shows: ${shown}\nbut the run printed:\n${out.join('\n')}`;
    at = index + 1;
  }
  return undefined;
}

/** A page with each whole offline example's output replaced by a real run's; one shown in part (`...`) is kept, and only checked. */
export async function regenerate(markdown: string): Promise<string> {
  let result = '';
  let last = 0;
  for (const block of markdown.matchAll(/```console\n([\s\S]*?)```/g)) {
    const lines = block[1].split('\n');
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      out.push(line);
      if (!line.startsWith('$ ') || !runsOffline(line.slice(2))) continue;
      const next = lines.findIndex((l, j) => j > i && l.startsWith('$ '));
      // An example shown in part (a `...` line) keeps its chosen lines: it is only checked.
      if (examples(`\`\`\`console\n${lines.slice(i, next === -1 ? lines.length : next).join('\n')}\n\`\`\``)[0]?.elided) continue;
      out.push(...(await runExample(line.slice(2))).stdout.trimEnd().split('\n').map((l) => l.trimEnd()), '');
      i = (next === -1 ? lines.length : next) - 1;
    }
    result += markdown.slice(last, block.index) + '```console\n' + out.join('\n').replace(/\n+$/, '\n') + '```';
    last = block.index! + block[0].length;
  }
  return result + markdown.slice(last);
}

async function main(): Promise<void> {
  for (const page of await examplePages()) {
    const file = path.join(REPO, page);
    const before = await readFile(file, 'utf8');
    const after = await regenerate(before);
    if (after !== before) {
      await writeFile(file, after);
      console.log(`rewrote ${page}`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
