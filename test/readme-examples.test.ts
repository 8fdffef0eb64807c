import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { shellWords } from '../src/capture/shell-words.js';
import { REPO_ROOT, runCli } from './support/cli.js';

interface Example {
  command: string;
  shown: string[];
  /** Some lines were left out (a `...` line). */
  elided: boolean;
}

/**
 * The `$ kubectl mesh-doctor ...` examples of a Markdown file's console blocks,
 * each with the lines shown under it. `...` stands for lines left out; a line
 * ending in `...` is the start of a longer one.
 */
function examples(markdown: string): Example[] {
  const found: Example[] = [];
  for (const block of markdown.matchAll(/```console\n([\s\S]*?)```/g)) {
    let current: Example | undefined;
    for (const line of block[1].split('\n')) {
      if (line.startsWith('$ ')) {
        current = { command: line.slice(2), shown: [], elided: false };
        found.push(current);
      } else if (current && line.trim() === '...') current.elided = true;
      else if (current && line.trim()) current.shown.push(line.trimEnd());
    }
  }
  return found;
}

describe('README examples produce what the README shows', function () {
  this.timeout(120_000);

  it('every console example runs offline and prints its shown lines in order', async () => {
    const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const runnable = examples(readme).filter((e) => e.command.startsWith('kubectl mesh-doctor ') && !e.command.includes('|'));
    expect(runnable.length).to.be.at.least(5);
    for (const example of runnable) {
      const result = await runCli(shellWords(example.command.replace(/^kubectl mesh-doctor /, '')));
      expect([0, 3], `${example.command}\n${result.stderr}`).to.include(result.exitCode);
      const out = result.stdout.split('\n').map((l) => l.trimEnd());
      // An example shown without any `...` is the whole output.
      if (example.shown.length > 3 && !example.shown.some((l) => l.endsWith('...')) && !example.elided) {
        expect(out.filter((l) => l).join('\n')).to.equal(example.shown.join('\n'));
      }
      let at = 0;
      for (const shown of example.shown) {
        const prefix = shown.endsWith('...') ? shown.slice(0, -3) : undefined;
        const index = out.findIndex((l, i) => i >= at && (prefix !== undefined ? l.startsWith(prefix) : l === shown));
        expect(index, `${example.command}\n  shows: ${shown}\n  but printed:\n${result.stdout}`).to.be.at.least(0);
        at = index + 1;
      }
    }
  });
});
