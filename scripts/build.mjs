// Bundle the CLI with esbuild: unbundled Ink costs ~0.8 s of module loading (LAB-NOTES). One build,
// code splitting on: dist/pgharden.mjs is the bin (the first-frame painter and little else), every
// dynamic import() (the CLI, each command, Ink and the screens, the engine) becomes a chunk under
// dist/chunks/ that is compiled only when it is imported (docs/decisions.md, "First frame"). dist/ is
// self-contained: no node_modules at run time.
import { build } from 'esbuild';
import { access, chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import process from 'node:process';

const outdir = 'dist';
const outfile = `${outdir}/pgharden.mjs`;

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
// Chunk names carry a content hash: without this, chunks of earlier builds would pile up.
await rm(outdir, { recursive: true, force: true });
/**
 * yoga-layout (Ink's layout engine) embeds its wasm as a data: URL and, when a global `fetch` exists,
 * fetches it: touching `fetch` makes Node 20 load undici (~40 ms of CPU before Ink's first frame, seen
 * in `node --cpu-prof`). A module-scoped `fetch` shadows the global in that one file, so yoga decodes
 * the same base64 synchronously instead. Nothing else in the bundle is affected.
 */
const yogaWithoutFetch = {
  name: 'yoga-without-fetch',
  setup(b) {
    b.onLoad({ filter: /yoga-layout[\\/]dist[\\/]binaries[\\/]yoga-wasm-base64-esm\.js$/ }, async (args) => ({
      contents: `var fetch = undefined;\n${await readFile(args.path, 'utf8')}`,
      loader: 'js',
    }));
  },
};
const result = await build({
  entryPoints: { pgharden: 'bin/pgharden.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // The wizard's screens (src/screens/*.tsx): React 19's automatic runtime, production build.
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: true,
  // ssh2 loads its optional native addons (cpu-features, sshcrypto) in a try/catch; sshcrypto is copied
  // next to the chunks below.
  external: ['cpu-features', './crypto/build/Release/sshcrypto.node'],
  plugins: [noDevtools, yogaWithoutFetch],
  // Every output file gets this banner (the shebang only matters for the bin; a chunk ignores it).
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
/**
 * ssh2's native crypto addon (AES-GCM/ChaCha20 in C), built by ssh2's install script when a compiler
 * is there. The bundled ssh2 requires it relative to its chunk (dist/chunks/), where it was missing:
 * ssh2 then falls back to JavaScript crypto that creates a cipher per packet and writes each packet
 * in two socket writes (node --cpu-prof of one 3-node apply: 2259 socket writes and ~150 ms of cipher
 * setup; with the addon 761 writes and none, docs/benchmarks.md). Optional: without it (no compiler,
 * another Node ABI) ssh2's require fails in its own try/catch and the JavaScript path runs.
 */
const sshcrypto = 'node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node';
if (
  await access(sshcrypto).then(
    () => true,
    () => false,
  )
) {
  await mkdir(`${outdir}/chunks/crypto/build/Release`, { recursive: true });
  await copyFile(sshcrypto, `${outdir}/chunks/crypto/build/Release/sshcrypto.node`);
}
// PGHARDEN_BUILD_META=FILE: esbuild's metafile, to check what the first frame loads eagerly.
if (process.env['PGHARDEN_BUILD_META']) {
  await writeFile(process.env['PGHARDEN_BUILD_META'], JSON.stringify(result.metafile));
}
