import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CATALOG, docsPath } from '../src/findings/catalog.js';
import { REPO_ROOT } from './support/cli.js';

// Like Istio's messages.yaml: codes are stable, ordered and documented; a page per code.
describe('finding catalog', () => {
  const entries = [...CATALOG.values()];

  it('uses MD + 4 digits, each code once', () => {
    for (const entry of entries) expect(entry.code).to.match(/^MD\d{4}$/);
    expect(new Set(entries.map((e) => e.code)).size).to.equal(entries.length);
  });

  for (const entry of entries) {
    it(`${entry.code} has a docs page that names it and says what it means, the evidence and the fix`, async () => {
      const page = await readFile(path.join(REPO_ROOT, docsPath(entry.code)), 'utf8');
      expect(page).to.match(new RegExp(`^# ${entry.code}`));
      expect(page.toLowerCase()).to.include('evidence');
      expect(page.toLowerCase()).to.include('fix');
      for (const related of entry.relatedIstio ?? []) expect(page).to.include(related);
    });
  }
});
