/**
 * The library example in the root README runs as written, on kvm-intel and (with the
 * module swapped) on kvm-amd: it prints "A" through an OUT to port 0xe9 and halts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(resolve(here, '../../../README.md'), 'utf8');
const start = readme.indexOf('```ts\n');
const example = readme.slice(start + 6, readme.indexOf('```', start + 6));

function runExample(source: string, name: string): string {
  // Inside this package, so '@kvmts/*' resolve through the workspace.
  const file = resolve(here, `../.readme-example-${name}.ts`);
  writeFileSync(file, source);
  try {
    return execFileSync(process.execPath, ['--conditions=@kvmts/source', '--import', 'tsx', file], { encoding: 'utf8', timeout: 60_000 });
  } finally {
    rmSync(file, { force: true });
  }
}

describe('the README library example', () => {
  it('is in the README', () => {
    expect(example).toContain("host.insmod(kvmIntel");
    expect(example).toContain('vcpu.run()');
  });

  it('runs on kvm-intel', () => {
    expect(runExample(example, 'intel')).toBe('A');
  });

  it('runs on kvm-amd with the module swapped', () => {
    const amd = example
      .replace("import { kvmIntel } from '@kvmts/kvm-intel';", "import { kvmAmd } from '@kvmts/kvm-amd';")
      .replace('host.insmod(kvmIntel, { ept: 1 });', 'host.insmod(kvmAmd, { npt: 1 });');
    expect(amd).not.toContain('kvmIntel');
    expect(runExample(amd, 'amd')).toBe('A');
  });
});
