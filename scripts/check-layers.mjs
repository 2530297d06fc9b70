// Checks the layering of DESIGN.md §2 / README "Architecture in a paragraph":
// every relative import in src/, workers/ and bench/ goes to the same layer or
// to a layer below it (left of it in LAYERS), and there is no cycle between
// folders. Prints one line per offending edge and exits 1; prints a one-line
// summary and exits 0 when the tree is clean. Run by `npm test` (and by
// test/layers.test.ts, which also plants an upward import in a temp copy).
//
//   node scripts/check-layers.mjs [root]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Bottom to top. A module may import its own layer and any layer to its left.
 * `config` (src/config.ts and its zod-free src/config_messages.ts) is the
 * leaf every layer may read. `cli` is
 * src/cli.ts and src/cli/; `workers` (the piscina entry) runs sim/'s CPU loop
 * and sits beside cli; `bench` is on top and nothing in src/ or workers/
 * imports it.
 */
export const LAYERS = [
  'config', 'machine', 'timing', 'sync', 'mm', 'rmap', 'reclaim', 'vm',
  'workload', 'sim', 'report', 'cli', 'workers', 'bench',
];

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The layer of a file path relative to root, or null when outside the check. */
export function layerOf(rel) {
  const p = rel.split(sep).join('/');
  if (p === 'src/config.ts' || p === 'src/config_messages.ts') return 'config';
  if (p === 'src/cli.ts' || p.startsWith('src/cli/')) return 'cli';
  const m = /^src\/([^/]+)\//.exec(p);
  if (m) return m[1];
  if (p.startsWith('workers/')) return 'workers';
  if (p.startsWith('bench/')) return 'bench';
  return null;
}

function walk(dir, out) {
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const n of names) {
    const f = join(dir, n);
    if (statSync(f).isDirectory()) walk(f, out);
    else if (/\.(ts|mts|mjs|js)$/.test(n) && !n.endsWith('.d.ts')) out.push(f);
  }
  return out;
}

/** All problems under root: [{ from, to, spec, why }]. */
export function checkLayers(root) {
  const files = ['src', 'workers', 'bench'].flatMap((d) => walk(join(root, d), []));
  const problems = [];
  const folderEdges = new Map(); // layer -> Set(layer)
  for (const f of files) {
    const rel = relative(root, f);
    const from = layerOf(rel);
    if (from === null) continue;
    const text = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith('.')) continue;
      const target = relative(root, resolve(dirname(f), spec)).replace(/\.js$/, '.ts');
      const to = layerOf(target);
      if (to === null) {
        problems.push({ from: rel, to: target, spec, why: 'imports outside src/, workers/, bench/' });
        continue;
      }
      if (!LAYERS.includes(from) || !LAYERS.includes(to)) {
        problems.push({ from: rel, to: target, spec, why: `folder ${!LAYERS.includes(from) ? from : to} is not in LAYERS` });
        continue;
      }
      if (to !== from) {
        if (!folderEdges.has(from)) folderEdges.set(from, new Set());
        folderEdges.get(from).add(to);
      }
      if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) {
        problems.push({ from: rel, to: target, spec, why: `upward import: ${from} -> ${to}` });
      }
    }
  }
  // folder cycles (implied by an upward edge, but report them by name too)
  const seen = new Set();
  const stack = [];
  const onStack = new Set();
  const dfs = (u) => {
    seen.add(u); stack.push(u); onStack.add(u);
    for (const v of folderEdges.get(u) ?? []) {
      if (onStack.has(v)) {
        const cyc = stack.slice(stack.indexOf(v)).concat(v).join(' -> ');
        problems.push({ from: u, to: v, spec: '', why: `folder cycle: ${cyc}` });
      } else if (!seen.has(v)) dfs(v);
    }
    stack.pop(); onStack.delete(u);
  };
  for (const u of folderEdges.keys()) if (!seen.has(u)) dfs(u);
  return { problems, files: files.length, folderEdges };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(process.argv[2] ?? '.');
  const { problems, files } = checkLayers(root);
  for (const p of problems) console.log(`check-layers: ${p.from}: '${p.spec}' (${p.to}): ${p.why}`);
  if (problems.length > 0) {
    console.log(`check-layers: ${problems.length} problem(s); order is ${LAYERS.join(' < ')}`);
    process.exit(1);
  }
  console.log(`check-layers: ${files} files, every import goes down (${LAYERS.join(' < ')})`);
}
