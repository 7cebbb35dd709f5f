/**
 * DESIGN.md's rule for qemu-lite: kvm-core's public API only; the vendor is chosen at run
 * time. So no vendor package is declared in package.json, and only the run-time module
 * loader (src/accel.ts) names them, the way modprobe names a .ko.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('qemu-lite layering', () => {
  it('declares no vendor package as a dependency of any kind', () => {
    const json = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const deps = Object.keys({ ...json.dependencies, ...json.devDependencies, ...json.peerDependencies, ...json.optionalDependencies });
    expect(deps.filter((d) => /^@kvmts\/kvm-(intel|amd|s390)$/.test(d))).toEqual([]);
  });

  it('names vendor packages only in src/accel.ts, and never imports kvm-core internals', () => {
    const bad: string[] = [];
    for (const f of files(join(pkg, 'src'))) {
      const text = readFileSync(f, 'utf8');
      if (!f.endsWith(join('src', 'accel.ts')) && /@kvmts\/kvm-(intel|amd|s390)/.test(text)) bad.push(`${f}: names a vendor package`);
      if (/from '@kvmts\/kvm-core\//.test(text)) bad.push(`${f}: imports a kvm-core internal path`);
    }
    expect(bad).toEqual([]);
  });
});
