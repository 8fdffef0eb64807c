#!/usr/bin/env -S node --max-semi-space-size=2
// The installed entry point: runs the compiled commands in dist/.
// --max-semi-space-size=2 (MB): a large config dump is one JSON.parse, and V8's
// default young generation (up to 48 MB) adds that much to the peak memory for
// no speed gain here (docs/performance.md measures both).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
