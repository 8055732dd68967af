// The split-off modules of a build and what each fetches, read from their loader
// (`__wasm_split-<hash>.js`, written by wasm-split-cli and pinned by scripts/split/wasm-bindgen):
//
//   splitModules(dist) -> [{ name: 'pages', file: 'split_pages-<hash>.wasm', chunks: ['chunk_6-<hash>.wasm', …] }, …]
//
// `chunks` are the shared chunks the loader fetches with the module (code it shares with other
// modules), whether or not another module already brought them. Used by scripts/bench.mjs (the size of
// each module on first use) and the e2e tests (which files a page fetches).
import fs from 'node:fs';
import path from 'node:path';

export function splitModules(dist) {
  const loaders = fs.readdirSync(dist).filter((f) => /^__wasm_split-[0-9a-f]+\.js$/.test(f));
  if (loaders.length !== 1) throw new Error(`${dist}: expected one split loader, found ${loaders.length}`);
  const js = fs.readFileSync(path.join(dist, loaders[0]), 'utf8');
  // each load: `const __chunk_N = makeLoad(() => { … fetch(new URL("./FILE" … }, [deps])` or
  // `export const __wasm_split_load_NAME = wrapAsyncCb(makeLoad(() => { … }, [deps]))`
  const re = /(?:const (__chunk_\d+)|export const __wasm_split_load_(\w+)) = (?:wrapAsyncCb\()?makeLoad\(\(\) => \{\s*const src = fetch\(new URL\("\.\/([^"]+)"[\s\S]*?\n\s*,\s*\[([^\]]*)\]\)/g;
  const chunkFile = new Map();
  const chunkDeps = new Map();
  const modules = [];
  for (const m of js.matchAll(re)) {
    const deps = m[4].split(',').map((s) => s.trim()).filter(Boolean);
    if (m[1]) {
      chunkFile.set(m[1], m[3]);
      chunkDeps.set(m[1], deps);
    } else modules.push({ name: m[2], file: m[3], deps });
  }
  if (!modules.length) throw new Error(`${loaders[0]}: no split-off module found`);
  const closure = (deps, seen = new Set()) => {
    for (const d of deps) {
      if (seen.has(d)) continue;
      if (!chunkFile.has(d)) throw new Error(`${loaders[0]}: unknown chunk ${d}`);
      seen.add(d);
      closure(chunkDeps.get(d), seen);
    }
    return seen;
  };
  return modules
    .map(({ name, file, deps }) => ({ name, file, chunks: [...closure(deps)].map((d) => chunkFile.get(d)).sort() }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
