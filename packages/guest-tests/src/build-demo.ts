/**
 * Rebuilds the prebuilt demo guest (guests/demo/demo.elf, committed so that `npm start`
 * works without a compiler) from its sources: `npm run build:demo -w @kvmts/guest-tests`.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGuest, checkToolchain, guestCacheKey } from './build';
import { GUESTS_DIR, loadManifest } from './manifest';

export const DEMO_ELF = join(GUESTS_DIR, 'demo', 'demo.elf');
/** The compiler and the cache key of the sources demo.elf was built from (a staleness check). */
export const DEMO_STAMP = join(GUESTS_DIR, 'demo', 'demo.elf.stamp');

const entry = loadManifest().find((g) => g.name === 'demo');
if (!entry) throw new Error('manifest has no "demo" entry');
const r = buildGuest(entry, { force: true });
copyFileSync(r.elf, DEMO_ELF);
writeFileSync(DEMO_STAMP, `${checkToolchain()}\n${guestCacheKey(entry)}\n`);
console.log(`[guest-build] demo -> ${DEMO_ELF}`);
