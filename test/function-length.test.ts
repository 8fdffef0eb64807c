import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';
import { REPO_ROOT } from './support/cli.js';
import { sourceFiles, SRC } from './support/source-files.js';

/**
 * The shape guard for diagnoses as named steps (docs/architecture.md): no
 * function in src/ runs past 80 lines, counted from its first line to its
 * closing brace, as the TypeScript parser sees it (arrow functions and
 * methods included). A longer one is split into short named steps.
 */
const MAX_LINES = 80;

/** Every function longer than `max` lines in one source text: `name (N lines, line L)`. */
export function longFunctions(fileName: string, text: string, max = MAX_LINES): string[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const long: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = file.getLineAndCharacterOfPosition(node.getStart(file)).line;
      const last = file.getLineAndCharacterOfPosition(node.end).line;
      const lines = last - first + 1;
      if (lines > max) long.push(`${nameOf(node, file)} (${lines} lines, line ${first + 1})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return long;
}

function nameOf(node: ts.SignatureDeclaration, file: ts.SourceFile): string {
  if (node.name) return node.name.getText(file);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))) return parent.name.getText(file);
  return 'an anonymous function';
}

describe('function length (docs/architecture.md: short named steps)', () => {
  it(`no function in src/ is longer than ${MAX_LINES} lines`, () => {
    const long = sourceFiles(SRC).flatMap((f) => longFunctions(f, readFileSync(f, 'utf8')).map((l) => `${path.relative(REPO_ROOT, f)}: ${l}`));
    expect(long, 'split these into named steps').to.deep.equal([]);
  });

  it('finds a long function, a long arrow function and a long method, and lets a short one be', () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  const x${i} = ${i};`).join('\n');
    const text = [
      `function short() {\n${body(10)}\n}`,
      `function long() {\n${body(80)}\n}`,
      `const arrow = () => {\n${body(80)}\n};`,
      `class Steps {\n  method() {\n${body(80)}\n  }\n}`,
    ].join('\n');
    expect(longFunctions('x.ts', text)).to.deep.equal(['long (82 lines, line 13)', 'arrow (82 lines, line 95)', 'method (82 lines, line 178)']);
  });
});
