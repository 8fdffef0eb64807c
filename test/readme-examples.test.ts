import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { difference, examplePages, examples, REPO, runExample } from '../tools/docs-examples.js';

// One definition of the examples (tools/docs-examples.ts): `npm run docs:examples`
// rewrites them from real runs; this test fails when a run no longer prints what a page shows.
describe('README and docs examples produce what the pages show', function () {
  this.timeout(300_000);

  it('README.md has offline examples', async () => {
    expect(examples(await readFile(path.join(REPO, 'README.md'), 'utf8')).length).to.be.at.least(5);
  });

  it('every offline console example of README.md and docs/*.md prints its shown lines (npm run docs:examples regenerates them)', async () => {
    const failures: string[] = [];
    for (const page of await examplePages()) {
      for (const example of examples(await readFile(path.join(REPO, page), 'utf8'))) {
        const wrong = difference(example, await runExample(example.command));
        if (wrong) failures.push(`${page}: $ ${example.command}\n${wrong}`);
      }
    }
    expect(failures, failures.join('\n\n')).to.be.empty;
  });
});
