import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('qemu-lite -version', () => {
  it('prints the version and exits 0', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', resolve(here, '../src/cli.ts'), '-version'], { encoding: 'utf8' });
    expect(out).toMatch(/^QEMU-lite emulator version \d+\.\d+\.\d+/);
  });
});
