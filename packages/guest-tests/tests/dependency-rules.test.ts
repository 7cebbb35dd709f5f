/**
 * DESIGN.md's dependency rules, checked on the package.json files and on the imports
 * in each package's source: an edge that breaks one is a design bug.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const pkgDir = (name: string) => join(root, 'packages', name);

/** For each package: the @kvmts packages it may depend on. */
const ALLOWED: Record<string, string[]> = {
  'kvm-core': [],
  'kvm-intel': ['kvm-core'],
  'kvm-amd': ['kvm-core'],
  'kvm-s390': ['kvm-core'],
  'qemu-lite': ['kvm-core'],
  'guest-tests': ['kvm-core', 'kvm-intel', 'kvm-amd', 'kvm-s390', 'qemu-lite'],
};

function ourDeps(name: string): string[] {
  const pkg = JSON.parse(readFileSync(join(pkgDir(name), 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const all = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies, ...pkg.optionalDependencies };
  return Object.keys(all).filter((d) => d.startsWith('@kvmts/')).map((d) => d.slice('@kvmts/'.length));
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('dependency rules (DESIGN.md)', () => {
  it('lists every package', () => {
    const dirs = readdirSync(join(root, 'packages')).filter((d) => statSync(pkgDir(d)).isDirectory());
    expect(dirs.sort()).toEqual(Object.keys(ALLOWED).sort());
  });

  for (const [name, allowed] of Object.entries(ALLOWED)) {
    it(`${name} declares only allowed @kvmts dependencies`, () => {
      const forbidden = ourDeps(name).filter((d) => !allowed.includes(d));
      expect(forbidden, `${name} must not depend on ${forbidden.join(', ')}`).toEqual([]);
    });

    it(`${name} imports only what it declares`, () => {
      const declared = new Set(ourDeps(name));
      const bad: string[] = [];
      for (const file of [...sourceFiles(join(pkgDir(name), 'src')), ...sourceFiles(join(pkgDir(name), 'tests'))]) {
        for (const m of readFileSync(file, 'utf8').matchAll(/from '@kvmts\/([a-z0-9-]+)/g)) {
          if (m[1] !== name && (!declared.has(m[1]!) || !allowed.includes(m[1]!))) bad.push(`${file.slice(root.length + 1)} -> @kvmts/${m[1]}`);
        }
        // A relative import must stay inside its own package.
        for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.\.?\/[^']*)'/g)) {
          const target = resolve(dirname(file), m[1]!);
          if (!target.startsWith(pkgDir(name) + '/')) bad.push(`${file.slice(root.length + 1)} reaches outside its package: ${m[1]}`);
        }
      }
      expect(bad).toEqual([]);
    });
  }
});
