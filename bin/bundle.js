// Loads dist/mesh-doctor.cjs, the whole CLI as one file (`npm run build`,
// tools/build-cli.ts), with the V8 code cache written beside it: resolving and
// reading some 400 module files, then compiling them, was most of the start-up
// time (docs/performance.md, "Start-up"). A cache V8 rejects (another Node, other
// V8 flags) only costs the compile it would have saved.
//
// V8 accepts a cache only under the V8 version, flags and CPU features it was
// made with (v8.cachedDataVersionTag()), so there is one per way the CLI
// starts: the shebang's flags (an npm install runs bin/run.js) and none
// (`node bin/run.js`); each is named by its tag.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';

export const BUNDLE = 'dist/mesh-doctor.cjs';

/** The code cache this Node can accept: dist/mesh-doctor.cjs.<cachedDataVersionTag>.cache. */
export function codeCacheFile() {
  return `${BUNDLE}.${v8.cachedDataVersionTag()}.cache`;
}

/** Evaluates the bundle as CommonJS; returns its exports and the script (for createCachedData). */
export function loadBundle(root) {
  const file = path.join(root, BUNDLE);
  let cachedData;
  try {
    cachedData = readFileSync(path.join(root, codeCacheFile()));
  } catch {
    // no cache: compile as usual
  }
  const wrapper = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(wrapper, {
    filename: file,
    cachedData,
    // oclif's own import() calls (plugins; never on this CLI's paths) resolve as in any module.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, path.dirname(file));
  return { exports: module.exports, script };
}
