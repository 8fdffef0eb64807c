#!/usr/bin/env -S node --import tsx --no-warnings
// Development entry point: oclif maps dist/ back to src/ (tsconfig rootDir/outDir)
// and tsx loads the TypeScript, so no build is needed.
import { execute } from '@oclif/core';

await execute({ development: true, dir: import.meta.url });
