// Bundle the CLI into one ESM file: unbundled Ink costs ~0.8 s of module loading (LAB-NOTES).
import { build } from 'esbuild';
import { chmod, writeFile } from 'node:fs/promises';
import process from 'node:process';

const outfile = 'dist/pgharden.mjs';

/**
 * Ink imports react-devtools-core (statically, from a module it loads only when DEV=true). As an
 * external it would be a top-level import of a package we do not ship, so it becomes an empty stub.
 */
const noDevtools = {
  name: 'no-react-devtools',
  setup(b) {
    b.onResolve({ filter: /^react-devtools-core$/ }, () => ({
      path: 'react-devtools-core',
      namespace: 'stub',
    }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: 'export default { initialize() {}, connectToDevTools() {} };',
      loader: 'js',
    }));
  },
};
const result = await build({
  entryPoints: ['bin/pgharden.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // The wizard's screens (src/screens/*.tsx): React 19's automatic runtime, production build.
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  // ssh2 loads its optional native addon (cpu-features) in a try/catch; Ink's devtools hook is dev-only.
  external: ['cpu-features', './crypto/build/Release/sshcrypto.node'],
  plugins: [noDevtools],
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __pgh_createRequire } from 'node:module';",
      "import { fileURLToPath as __pgh_fileURLToPath } from 'node:url';",
      "import { dirname as __pgh_dirname } from 'node:path';",
      'const require = __pgh_createRequire(import.meta.url);',
      // CommonJS dependencies (ssh2) look for optional native addons relative to __dirname.
      'const __filename = __pgh_fileURLToPath(import.meta.url);',
      'const __dirname = __pgh_dirname(__filename);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
// PGHARDEN_BUILD_META=FILE: esbuild's metafile, to check what the first frame loads eagerly.
if (process.env['PGHARDEN_BUILD_META']) {
  await writeFile(process.env['PGHARDEN_BUILD_META'], JSON.stringify(result.metafile));
}
