/**
 * The CLI as one CommonJS file, for the single executable (tools/release) and
 * for `node bin/run.js` (`npm run build`): resolving and reading ~400 module
 * files was most of the start-up time (docs/performance.md, "Start-up").
 */
import { build } from 'esbuild';

export async function bundleCli(entry: string, outfile: string, define: Record<string, string> = {}): Promise<void> {
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    // oclif can load TypeScript plugins; the bundle never does, and typescript is 9.7 MB.
    external: ['typescript'],
    define,
    // Before any library loads: oclif's Node-engine check and ws's optional native add-ons
    // print warnings on every run otherwise (toolchain notes).
    banner: { js: "process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'; process.env.WS_NO_BUFFER_UTIL ??= '1'; process.env.WS_NO_UTF_8_VALIDATE ??= '1';" },
    legalComments: 'none',
    logLevel: 'error',
  });
}
