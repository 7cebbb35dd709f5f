/**
 * tools/guest-linux: the newc writer checked against GNU cpio (the host's reader), the
 * .modinfo reader against gcc-built ELF objects, modules.dep order, and the CLI's errors.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeCpioNewc } from '../guest-linux/cpio';
import { parseArgs } from '../guest-linux/main';
import { readModinfo, resolveModules } from '../guest-linux/modules';

const hasCpio = spawnSync('cpio', ['--version']).status === 0;

describe('newc cpio writer', () => {
  const data = new Uint8Array(1001).map((_, i) => (i * 7) & 0xff);
  const archive = writeCpioNewc([
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/prog', data, mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'prog' },
    { type: 'dir', path: 'dev' },
    { type: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { type: 'file', path: 'init', data: new TextEncoder().encode('#!/bin/sh\n') , mode: 0o755 },
    { type: 'file', path: 'empty', data: new Uint8Array(0) },
  ]);

  it('puts every member on a 4-byte boundary and ends with TRAILER!!!', () => {
    const text = Buffer.from(archive).toString('latin1');
    let off = 0;
    const names: string[] = [];
    while (off < archive.length) {
      expect(text.slice(off, off + 6)).toBe('070701');
      const field = (i: number) => parseInt(text.slice(off + 6 + i * 8, off + 14 + i * 8), 16);
      const filesize = field(6);
      const namesize = field(11);
      names.push(text.slice(off + 110, off + 110 + namesize - 1));
      off += 110 + namesize;
      off += (4 - (off % 4)) % 4;
      off += filesize + ((4 - (filesize % 4)) % 4);
      expect(off % 4).toBe(0);
    }
    expect(off).toBe(archive.length);
    expect(names).toEqual(['bin', 'bin/prog', 'bin/sh', 'dev', 'dev/console', 'init', 'empty', 'TRAILER!!!']);
  });

  it.skipIf(!hasCpio)('reads back with GNU cpio: types, modes, device numbers, link target, contents', () => {
    const list = execFileSync('cpio', ['-itv', '--quiet'], { input: archive }).toString();
    const lines = list.trim().split('\n');
    expect(lines[0]).toMatch(/^drwxr-xr-x .* bin$/);
    expect(lines[1]).toMatch(/^-rwxr-xr-x +1 root +root +1001 .* bin\/prog$/);
    expect(lines[2]).toMatch(/^lrwxrwxrwx .* bin\/sh -> prog$/);
    expect(lines[4]).toMatch(/^crw------- +1 root +root +5, +1 .* dev\/console$/);
    expect(lines).toHaveLength(7);
    const dir = mkdtempSync(join(tmpdir(), 'cpio-'));
    execFileSync('cpio', ['-id', '--quiet', 'bin', 'bin/prog', 'init'], { input: archive, cwd: dir });
    expect(new Uint8Array(readFileSync(join(dir, 'bin/prog')))).toEqual(data);
    expect(readFileSync(join(dir, 'init'), 'utf8')).toBe('#!/bin/sh\n');
  });

  it('refuses a member before its directory, duplicates and escaping paths', () => {
    expect(() => writeCpioNewc([{ type: 'file', path: 'a/b', data: new Uint8Array(1) }])).toThrow(/before its directory 'a'/);
    expect(() => writeCpioNewc([{ type: 'dir', path: 'a' }, { type: 'dir', path: 'a' }])).toThrow(/duplicate path 'a'/);
    expect(() => writeCpioNewc([{ type: 'dir', path: '../x' }])).toThrow(/bad path/);
  });
});

describe('kernel module metadata', () => {
  const hasGcc = spawnSync('gcc', ['--version']).status === 0;

  /** A fake module tree: ELF objects (built by gcc, -m32 and -m64) with a .modinfo section as modpost writes it. */
  function fakeModules(): string {
    const root = mkdtempSync(join(tmpdir(), 'mods-'));
    const mods: Record<string, { m32?: boolean; info: string[] }> = {
      'kernel/a/base': { info: ['license=GPL', 'depends=', 'alias=crypto-thing'] },
      'kernel/a/mid-one': { m32: true, info: ['depends=base'] },
      'kernel/b/top': { info: ['depends=mid_one,base', 'softdep=pre: crypto-thing'] },
      'kernel/b/user': { info: ['depends=', 'softdep=pre: crypto-thing post: nothing'] },
    };
    for (const [path, m] of Object.entries(mods)) {
      const dir = join(root, path.slice(0, path.lastIndexOf('/')));
      mkdirSync(dir, { recursive: true });
      const src = join(root, 'm.c');
      const strs = m.info.map((s, i) => `static const char s${i}[] __attribute__((section(".modinfo"), used, aligned(1))) = ${JSON.stringify(s)};`).join('\n');
      writeFileSync(src, `${strs}\nint f(void) { return 1; }\n`);
      execFileSync('gcc', [m.m32 ? '-m32' : '-m64', '-c', src, '-o', join(root, `${path}.ko`)]);
    }
    return root;
  }

  it.skipIf(!hasGcc)('reads .modinfo from 32- and 64-bit ELF objects', () => {
    const root = fakeModules();
    expect(readModinfo(new Uint8Array(readFileSync(join(root, 'kernel/b/top.ko'))))).toEqual(['depends=mid_one,base', 'softdep=pre: crypto-thing']);
    expect(readModinfo(new Uint8Array(readFileSync(join(root, 'kernel/a/mid-one.ko'))))).toEqual(['depends=base']);
    expect(() => readModinfo(new TextEncoder().encode('not an elf file at all, just some text here padding padding'))).toThrow(/not an ELF/);
  });

  it.skipIf(!hasGcc)('modules.dep: the closure, nearest dependency first, softdeps by alias; modules.alias', () => {
    const root = fakeModules();
    const set = resolveModules(root, ['top', 'user']);
    expect(set.modules.map((m) => m.name)).toEqual(['base', 'mid-one', 'top', 'user']);
    expect(set.modulesDep).toBe(
      'kernel/a/base.ko:\n' +
        'kernel/a/mid-one.ko: kernel/a/base.ko\n' +
        'kernel/b/top.ko: kernel/a/mid-one.ko kernel/a/base.ko\n' +
        'kernel/b/user.ko: kernel/a/base.ko\n',
    );
    expect(set.modulesAlias).toBe('alias crypto-thing base\n');
    expect(() => resolveModules(root, ['nosuch'])).toThrow(/module 'nosuch' \(wanted\) is not in/);
  });
});

describe('npm run guest:linux arguments', () => {
  it('parses --arch/--out and names the bad option', () => {
    expect(parseArgs(['--arch', 'i386', '--out=/tmp/x'])).toEqual({ arch: 'i386', out: '/tmp/x', quiet: false });
    expect(parseArgs([])).toEqual({ arch: 'amd64', quiet: false });
    expect(() => parseArgs(['--arch', 'arm64'])).toThrow(/^--arch: must be one of amd64, i386$/);
    expect(() => parseArgs(['--bogus', '1'])).toThrow(/^--bogus: unknown option/);
    expect(() => parseArgs(['--out'])).toThrow(/^--out: missing value$/);
  });

  it('the CLI prints one line naming the option and exits 1', () => {
    const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');
    const r = spawnSync(tsx, [resolve(import.meta.dirname, '../guest-linux/main.ts'), '--arch', 'sparc'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('guest-linux: --arch: must be one of amd64, i386');
  });
});
