// Writes oclif.manifest.json (the command list, flags and help text) for the
// packed product, so oclif answers --version and --help without importing every
// command and its dependencies. oclif's convention: generated at prepack,
// removed at postpack, never present in a development checkout.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Config } from '@oclif/core';

const root = fileURLToPath(new URL('..', import.meta.url));
const file = path.join(root, 'oclif.manifest.json');
await rm(file, { force: true });
const config = await Config.load({ root });
const manifest = { ...config.rootPlugin.manifest, version: config.version };
await writeFile(file, JSON.stringify(manifest, null, 2) + '\n');
console.log(`wrote oclif.manifest.json (${Object.keys(manifest.commands).length} commands)`);
