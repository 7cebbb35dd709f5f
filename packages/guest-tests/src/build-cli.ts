/**
 * `npm run build:guests -w @kvmts/guest-tests [-- name...]`: builds the manifest's guests
 * (all, or those whose names start with one of the arguments) into build/.
 */
import { buildAll } from './build';
import { loadManifest } from './manifest';

const only = process.argv.slice(2);
const entries = loadManifest().filter((g) => only.length === 0 || only.some((o) => g.name.startsWith(o)));
if (entries.length === 0) {
  console.error(`no guest matches ${only.join(' ')}`);
  process.exit(1);
}
const t0 = performance.now();
const results = buildAll(entries);
console.log(`[guest-build] ${results.length} guests (${results.filter((r) => !r.cached).length} built) in ${Math.round(performance.now() - t0)} ms`);
