// Bundle the CLI into one ESM file: unbundled Ink costs ~0.8 s of module loading (LAB-NOTES).
import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';

const outfile = 'dist/pgharden.mjs';
await build({
  entryPoints: ['bin/pgharden.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // ssh2 loads its optional native addon (cpu-features) in a try/catch; Ink's devtools hook is dev-only.
  external: ['cpu-features', 'react-devtools-core', './crypto/build/Release/sshcrypto.node'],
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
