import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { REPO_ROOT } from './support/cli.js';
import { sourceFiles, SRC } from './support/source-files.js';

/**
 * The layer guard (docs/architecture.md): imports point down only.
 *
 *   commands -> diagnoses -> rules -> findings -> model <- sources <- capture
 *   render and report apart; snapshot and explain are features beside them.
 *
 * A file's layer is its first directory under src/; files directly under src/
 * (base-command, errors, lifecycle, duration, assets, commands, index) are the
 * shell: the shell and commands may import anything; errors, duration and
 * assets (bundled files, also inside the single executable) are leaves.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  model: ['model', 'errors'],
  findings: ['findings', 'model'],
  rules: ['rules', 'findings', 'model', 'errors'],
  sources: ['sources', 'model', 'errors', 'lifecycle', 'duration', 'assets'],
  capture: ['capture', 'sources', 'model', 'errors', 'lifecycle', 'duration'],
  report: ['report', 'findings', 'model'],
  render: ['render', 'report', 'findings', 'model', 'errors'],
  explain: ['explain', 'model', 'errors'],
  diagnoses: ['diagnoses', 'rules', 'findings', 'model', 'sources', 'capture', 'report', 'explain', 'errors', 'duration', 'lifecycle'],
  snapshot: ['snapshot', 'sources', 'model', 'report', 'render', 'errors', 'lifecycle', 'duration'],
};

/** src/rules/upstream/x.ts -> rules; src/errors.ts -> errors (a top-level file is its own layer). */
function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? rel[0]!.replace(/\.m?[jt]s$/, '') : rel[0]!;
}

/** Relative import specifiers: `from '../x.js'`, `import('../x.js')`, `export ... from`. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'(\.[^']+)'/gm)) found.push(m[1]!);
  return found;
}

function layerViolations(files: ReadonlyArray<{ file: string; text: string }>): string[] {
  const violations: string[] = [];
  for (const { file, text } of files) {
    const from = layerOf(file);
    const allowed = MAY_IMPORT[from];
    if (!allowed) continue; // commands and the shell may import anything
    for (const spec of importsOf(text)) {
      const target = path.resolve(path.dirname(file), spec);
      if (!target.startsWith(SRC + path.sep)) continue;
      const to = layerOf(target);
      if (!allowed.includes(to)) violations.push(`${path.relative(REPO_ROOT, file)} (${from}) imports ${spec} (${to})`);
    }
  }
  return violations;
}

describe('layers (docs/architecture.md)', () => {
  it('every import in src/ points down or sideways within its layer, never up', () => {
    const files = sourceFiles(SRC).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
    expect(files.length).to.be.greaterThan(100);
    expect(layerViolations(files)).to.deep.equal([]);
  });

  it('knows every directory under src/ (a new layer gets a line in MAY_IMPORT and in docs/architecture.md)', () => {
    const dirs = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(dirs.filter((d) => d !== 'commands' && !MAY_IMPORT[d])).to.deep.equal([]);
  });

  it('fails on an import that points up (a model file importing a rule, a rule importing a report)', () => {
    const file = (rel: string, text: string) => ({ file: path.join(SRC, rel), text });
    expect(layerViolations([
      file('model/envoy/x.ts', "import type { Rule } from '../../rules/rule.js';\nimport { y } from './y.js';"),
      file('rules/upstream/x.ts', "export { z } from '../../report/report.js';"),
      file('commands/x.ts', "import { run } from '../diagnoses/why-503.js';"),
    ])).to.deep.equal([
      'src/model/envoy/x.ts (model) imports ../../rules/rule.js (rules)',
      'src/rules/upstream/x.ts (rules) imports ../../report/report.js (report)',
    ]);
  });
});
