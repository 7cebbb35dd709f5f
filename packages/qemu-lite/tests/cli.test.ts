/**
 * The CLI as a process: option errors exit 1 with a one-line message before any guest
 * runs; guest exits map to QEMU's statuses (isa-debug-exit, power-off, -no-reboot).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Prog, bzImage, elf32 } from './helpers/guest';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../src/cli.ts');
const fake = resolve(here, 'fixtures/cli-fake.ts');
const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-cli-proc-'));

function run(script: string, args: string[], input = '') {
  const r = spawnSync(process.execPath, ['--conditions=@kvmts/source', '--import', 'tsx', script, ...args], { encoding: 'utf8', timeout: 60_000, input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function kernel(prog: Prog): string {
  const p = join(dir, `k${Math.random().toString(36).slice(2)}.elf`);
  writeFileSync(p, elf32(prog.build(), 0x100000, { multiboot: true }));
  return p;
}

const DEBUG_EXIT = ['-device', 'isa-debug-exit,iobase=0xf4,iosize=4'];

describe('qemu-lite process', () => {
  it('exits 1 with a one-line message for a bad option, a bad value and a missing file', () => {
    for (const [args, msg] of [
      [['-bogus'], 'qemu-lite: -bogus: invalid option\n'],
      [['-m', 'xyz'], "qemu-lite: -m: invalid RAM size 'xyz'\n"],
      [['-kernel', join(dir, 'none.elf')], `qemu-lite: -kernel: could not open '${join(dir, 'none.elf')}': No such file or directory\n`],
    ] as const) {
      const r = run(cli, [...args]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(msg);
      expect(r.stdout).toBe('');
    }
  });

  it('-version and -h exit 0', () => {
    expect(run(cli, ['-version']).stdout).toMatch(/^QEMU-lite emulator version/);
    const h = run(cli, ['-h']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/-kernel FILE/);
  });

  it('isa-debug-exit: a write of v exits with (v << 1) | 1', () => {
    for (const v of [0, 0x3f]) {
      const r = run(fake, ['-kernel', kernel(new Prog().outb(0xf4, v)), ...DEBUG_EXIT, '-nodefaults']);
      expect(r.status).toBe((v << 1) | 1);
    }
  });

  it('guest serial output reaches stdout with -serial stdio', () => {
    const p = new Prog();
    for (const c of 'hello\n') p.outb(0x3f8, c.charCodeAt(0));
    const r = run(fake, ['-kernel', kernel(p.outb(0xf4, 0)), ...DEBUG_EXIT, '-serial', 'stdio']);
    expect(r.stdout).toBe('hello\n');
    expect(r.status).toBe(1);
  });

  it('-serial file: writes the guest output to the file', () => {
    const out = join(dir, 'serial.txt');
    const r = run(fake, ['-kernel', kernel(new Prog().outb(0x3f8, 0x4f).outb(0x3f8, 0x4b).outb(0xf4, 0)), ...DEBUG_EXIT, '-serial', `file:${out}`]);
    expect(r.status).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('OK');
  });

  it('ACPI power-off exits 0', () => {
    const r = run(fake, ['-kernel', kernel(new Prog().outw(0x604, 0x2000).outb(0xf4, 9)), ...DEBUG_EXIT, '-nodefaults']);
    expect(r.status).toBe(0);
  });

  it('-no-reboot: a keyboard-controller reset or a triple fault exits 0', () => {
    expect(run(fake, ['-kernel', kernel(new Prog().outb(0x64, 0xfe)), '-no-reboot', '-nodefaults']).status).toBe(0);
    expect(run(fake, ['-kernel', kernel(new Prog().ud2()), '-no-reboot', '-nodefaults']).status).toBe(0);
  });

  it('a host-side failure (emulation failure) exits non-zero with a message', () => {
    const r = run(fake, ['-kernel', kernel(new Prog().raw(0xd6)), '-nodefaults']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^qemu-lite: KVM internal error on vCPU 0\. Suberror: 1/);
  });

  it('with no -kernel it boots the demo guest, and says so clearly when it is absent', () => {
    const missing = run(fake, [`--demo=${join(dir, 'no-demo.elf')}`, '-nodefaults']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/built-in demo guest is missing/);
    const demo = kernel(new Prog().outb(0xf4, 2));
    expect(run(fake, [`--demo=${demo}`, ...DEBUG_EXIT, '-nodefaults']).status).toBe(5);
  });

  it('-S starts paused with a monitor on stdio: info registers, then c runs the guest; q quits with 0', () => {
    const k = kernel(new Prog().outb(0xf4, 4));
    const r = run(fake, ['-kernel', k, ...DEBUG_EXIT, '-nodefaults', '-S'], 'info registers\nc\n');
    expect(r.stdout).toMatch(/\(qemu\) CPU#0\nRAX=/);
    expect(r.status).toBe(9);
    expect(run(fake, ['-kernel', k, ...DEBUG_EXIT, '-nodefaults', '-S'], 'q\n').status).toBe(0);
  });

  it('-machine linux-fast-boot=on with a corrupt XZ kernel payload: one line naming the file, exit 1', () => {
    const vmlinux = elf32(new Prog().hlt().build(), 0x1000000);
    const z = new Uint8Array(execFileSync('xz', ['-c', '--check=crc32', '--x86', '--lzma2=,dict=1MiB'], { input: vmlinux }));
    const payload = new Uint8Array(z.length + 4);
    payload.set(z);
    new DataView(payload.buffer).setUint32(z.length, vmlinux.length, true);
    payload[z.length - 20] ^= 0xff; // the index
    const path = join(dir, 'bad-bzImage');
    writeFileSync(path, bzImage(payload, { payload: { offset: 0, length: payload.length } }));
    const r = run(fake, ['-kernel', path, '-machine', 'linux-fast-boot=on', '-nodefaults']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^qemu-lite: bad-bzImage: cannot decompress the kernel payload: (xz|LZMA2) data is (corrupt|truncated) \([^\n]*\)\n$/);
    expect(run(cli, ['-h']).stdout).toMatch(/linux-fast-boot=on\|off/);
  });
});

describe('qemu-lite process: the rest of issue 6\'s options', () => {
  it('-name: the monitor\'s info name prints it (plain and guest=); -S waits for cont', () => {
    const k = kernel(new Prog().outb(0xf4, 6));
    const r = run(fake, ['-kernel', k, ...DEBUG_EXIT, '-nodefaults', '-name', 'vm1', '-S'], 'info name\ncont\n');
    expect(r.stdout).toContain('(qemu) vm1\n(qemu) ');
    expect(r.status).toBe(13);
    expect(run(fake, ['-kernel', k, ...DEBUG_EXIT, '-nodefaults', '-name', 'guest=vm2', '-S'], 'info name\nc\n').stdout).toContain('(qemu) vm2\n');
    // Without -name the answer is empty, as QEMU's.
    expect(run(fake, ['-kernel', k, ...DEBUG_EXIT, '-nodefaults', '-S'], 'info name\nq\n').stdout).toBe('QEMU-lite monitor - type \'help\' for more information\n(qemu) (qemu) ');
  });

  it('-S: the guest does not run before cont (the monitor input ends: quit, status 0)', () => {
    const k = kernel(new Prog().outb(0xf4, 6));
    expect(run(fake, ['-kernel', k, ...DEBUG_EXIT, '-nodefaults', '-S'], 'info registers\n').status).toBe(0);
  });

  it('-global moves isa-debug-exit to the port the guest writes', () => {
    const k = kernel(new Prog().outb(0x501, 5));
    expect(run(fake, ['-kernel', k, '-device', 'isa-debug-exit', '-global', 'isa-debug-exit.iobase=0x501', '-nodefaults']).status).toBe(11);
  });

  it('-d exits -D FILE: the trace goes to the file, not to stderr', () => {
    const log = join(dir, 'trace.log');
    const r = run(fake, ['-kernel', kernel(new Prog().outb(0x80, 1).outb(0xf4, 2)), ...DEBUG_EXIT, '-nodefaults', '-d', 'exits', '-D', log]);
    expect(r.status).toBe(5);
    expect(r.stderr).toBe('');
    expect(readFileSync(log, 'utf8')).toMatch(/KVM_EXIT_IO/);
  });

  it('-M microvm: no PCI host bridge at 0xcf8 (pc reads 8086 there), isa-debug-exit still works', () => {
    // CONFIG_ADDRESS = 00.0 register 0; the low byte of the vendor ID is the exit code.
    const p = new Prog().movEdx(0xcf8).movEax(0x80000000).outDxEax().movEdx(0xcfc).inAlDx().movEdx(0xf4).outDxAl();
    const k = kernel(p);
    expect(run(fake, ['-kernel', k, ...DEBUG_EXIT, '-nodefaults', '-M', 'pc']).status).toBe(((0x86 << 1) | 1) & 0xff);
    expect(run(fake, ['-kernel', k, ...DEBUG_EXIT, '-nodefaults', '-M', 'microvm']).status).toBe(((0xff << 1) | 1) & 0xff);
  });

  it('-device pc-testdev: its 0xe0 register reads back through the 0xe8 byte view (0xff without it)', () => {
    const p = new Prog().outb(0xe0, 0x21).movEdx(0xe8).inAlDx().movEdx(0xf4).outDxAl();
    const k = kernel(p);
    expect(run(fake, ['-kernel', k, ...DEBUG_EXIT, '-nodefaults', '-device', 'pc-testdev']).status).toBe(0x43);
    expect(run(fake, ['-kernel', k, ...DEBUG_EXIT, '-nodefaults']).status).toBe(0xff);
  });
});
