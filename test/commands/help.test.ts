import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { shellWords } from '../../src/capture/shell-words.js';
import { COMMANDS } from '../../src/commands.js';
import { REPO_ROOT, runCli } from '../support/cli.js';

/** Commands that only make sense against a live cluster (said in their help). */
const LIVE_ONLY = new Set(['logging']);

/** The lines of one section of oclif's help (USAGE, DESCRIPTION, EXAMPLES, ...). */
function section(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(title);
  if (start === -1) return [];
  const end = lines.findIndex((l, i) => i > start && /^[A-Z][A-Z ]+$/.test(l));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

describe('help', function () {
  this.timeout(120_000);

  for (const id of Object.keys(COMMANDS)) {
    it(`${id}: kubectl mesh-doctor usage, prose wrapped at words, an example that runs offline`, async () => {
      const help = (await runCli([id, '--help'], { env: { COLUMNS: '80' } })).stdout;
      expect(section(help, 'USAGE')[0]).to.match(new RegExp(`^  \\$ kubectl mesh-doctor ${id}\\b`));
      // A paragraph is wrapped to the width, never broken where the source text had a line break:
      // a line far shorter than the width followed by more of the same paragraph is such a break.
      const description = section(help, 'DESCRIPTION');
      description.forEach((line, i) => {
        const next = description[i + 1];
        if (line.trim() && next?.trim() && !/^\s*([-*]|\d+\.|\$)/.test(next)) {
          expect(line.length, `"${line}" then "${next}"`).to.be.greaterThan(50);
        }
      });
      // A default is never split inside a word: it comes back whole when the lines are joined.
      const command = COMMANDS[id as keyof typeof COMMANDS] as unknown as { flags?: Record<string, { default?: unknown }>; baseFlags?: Record<string, { default?: unknown }> };
      const joined = help.replace(/\n\s+/g, ' ');
      for (const flag of Object.values({ ...command.baseFlags, ...command.flags })) {
        const value = flag.default;
        if ((typeof value === 'string' && !value.includes(',')) || typeof value === 'number') expect(joined).to.contain(`[default: ${value}]`);
      }
      const examples = section(help, 'EXAMPLES').map((l) => l.trim()).filter((l) => l.startsWith('$ kubectl mesh-doctor '));
      expect(examples, 'examples').not.to.be.empty;
      if (LIVE_ONLY.has(id)) return;
      const offline = examples.filter((e) => id === 'explain' || id === 'docs' || id === 'demo' || e.includes('--from '));
      expect(offline, `an example of ${id} that runs on a snapshot in the repository`).not.to.be.empty;
      // Every example that runs offline is run, not only the first: each must still work on its snapshot.
      for (const example of offline) {
        const args = shellWords(example.replace(/^\$ kubectl mesh-doctor /, ''));
        for (const arg of args) {
          if (/^(examples|test)\//.test(arg)) expect(existsSync(path.join(REPO_ROOT, arg)), arg).to.equal(true);
        }
        const run = await runCli(args);
        if (args.includes('--out')) await rm(path.join(REPO_ROOT, args[args.indexOf('--out') + 1]), { recursive: true, force: true });
        expect([0, 3, 4], `${example}\n${run.stderr}`).to.include(run.exitCode);
      }
    });
  }

  it('a long default (the loggers) is listed at its commas, not cut inside a logger name', async () => {
    const help = (await runCli(['why-503', '--help'], { env: { COLUMNS: '80' } })).stdout;
    expect(help.replace(/\n\s+/g, ' ')).to.contain('[default: connection, conn_handler, filter, pool, router, upstream]');
  });
});
