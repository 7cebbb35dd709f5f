/** The command-line parser: QEMU option names, values, files; one-line errors. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli-args';

const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-cli-'));
const kernel = join(dir, 'kernel.elf');
writeFileSync(kernel, 'x');
const mod = join(dir, 'mod.bin');
writeFileSync(mod, 'y');

function config(...argv: string[]) {
  const a = parseCommandLine(argv);
  if (a.kind !== 'run') throw new Error(a.kind);
  return a.config;
}

describe('command line', () => {
  it('parses the common options (single and double dash)', () => {
    const c = config('-kernel', kernel, '--initrd', `${mod} a b,${mod}`, '-append', 'console=ttyS0', '-m', '256M', '-smp', '2',
      '-accel', 'kvm-amd', '-M', 'pc', '-cpu', 'max,+x2apic', '-serial', 'stdio', '-display', 'none', '-no-reboot', '-name', 'vm1',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x4', '-device', 'pc-testdev', '-S', '-d', 'exits,unimp', `--D=${join(dir, 'log')}`);
    expect(c).toMatchObject({
      kernel, initrd: [`${mod} a b`, mod], append: 'console=ttyS0', memSize: 256 * 1024 * 1024, smp: 2, accel: 'kvm-amd',
      machine: 'pc', cpu: { model: 'max', plus: ['x2apic'] }, serial: [{ kind: 'stdio' }], noReboot: true, name: 'vm1',
      devices: [{ driver: 'isa-debug-exit', iobase: 0xf4, iosize: 4 }, { driver: 'pc-testdev' }], startPaused: true, log: ['exits', 'unimp'],
    });
  });

  it('accepts the options guest-tests pass to both VMMs (commonArgs)', () => {
    const c = config('-machine', 'pc', '-kernel', kernel, '-m', '128', '-smp', '1', '-display', 'none', '-vga', 'none', '-monitor', 'none',
      '-serial', 'stdio', '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-accel', 'kvm-intel');
    expect(c).toMatchObject({ machine: 'pc', memSize: 128 * 1024 * 1024, noReboot: true, accel: 'kvm-intel' });
  });

  it('-machine acpi=on|off decides whether the firmware has ACPI tables', () => {
    expect(config('-kernel', kernel).acpi).toBeUndefined(); // the schema's default: on
    expect(config('-kernel', kernel, '-machine', 'pc,acpi=off').acpi).toBe(false);
    expect(config('-kernel', kernel, '-M', 'pc,acpi=on').acpi).toBe(true);
    expect(() => parseCommandLine(['-kernel', kernel, '-machine', 'pc,acpi=maybe'])).toThrow(/acpi must be on or off/);
    expect(config('-kernel', kernel).linuxFastBoot).toBeUndefined(); // the schema's default: off
    expect(config('-kernel', kernel, '-machine', 'pc,linux-fast-boot=on').linuxFastBoot).toBe(true);
    expect(config('-kernel', kernel, '-M', 'linux-fast-boot=off').linuxFastBoot).toBe(false);
    expect(() => parseCommandLine(['-kernel', kernel, '-machine', 'linux-fast-boot=yes'])).toThrow(/^-machine: linux-fast-boot must be on or off, not 'yes'$/);
  });

  it('-machine accel= and -accel kvm (the host default)', () => {
    expect(config('-machine', 'pc,accel=kvm-intel').accel).toBe('kvm-intel');
    const a = parseCommandLine(['-accel', 'kvm']);
    expect(a.kind === 'run' && a.hostAccel && a.config.accel === undefined).toBe(true);
  });

  it('-m takes MiB by default and G suffixes', () => {
    expect(config('-m', '64').memSize).toBe(64 * 1024 * 1024);
    expect(config('-m', '2G').memSize).toBe(2 * 1024 ** 3);
    expect(config('-m', 'size=1G').memSize).toBe(1024 ** 3);
  });

  it('serial defaults: stdio; -nodefaults none; -serial file:', () => {
    expect(config().serial).toEqual([{ kind: 'stdio' }]);
    expect(config('-nodefaults').serial).toEqual([]);
    expect(config('-serial', `file:${join(dir, 'out.txt')}`, '-serial', 'none').serial).toEqual([{ kind: 'file', path: join(dir, 'out.txt') }, { kind: 'none' }]);
  });

  it('-nographic hands Ctrl-C to the guest; stdio otherwise keeps it as a signal', () => {
    expect(config().stdioSignals).toBeUndefined(); // schema default: true
    expect(config('-nographic').stdioSignals).toBe(false);
  });

  it('-global kvm-pit.lost_tick_policy picks the PIT lost-tick policy', () => {
    expect(config('-global', 'kvm-pit.lost_tick_policy=delay').pitLostTickPolicy).toBe('delay');
    expect(config('-global', 'kvm-pit.lost_tick_policy=discard').pitLostTickPolicy).toBe('discard');
    expect(() => config('-global', 'kvm-pit.lost_tick_policy=slew')).toThrow(/kvm-pit.lost_tick_policy must be delay or discard, not 'slew'/);
  });

  it('-global applies to -device properties', () => {
    expect(config('-device', 'isa-debug-exit', '-global', 'isa-debug-exit.iobase=0x501').devices).toEqual([{ driver: 'isa-debug-exit', iobase: 0x501, iosize: 2 }]);
  });

  it('-device loader for flat binaries', () => {
    expect(config('-device', `loader,file=${mod},addr=0x100000,cpu-num=0,mode=long`).devices).toEqual([
      { driver: 'loader', file: mod, addr: 0x100000, cpuNum: 0, mode: 'long' },
    ]);
  });

  it('-icount shift=N picks the virtual clock at 2^N ns per instruction (a bare number is the shift)', () => {
    expect(config('-kernel', kernel).icountShift).toBeUndefined();
    expect(config('-kernel', kernel, '-icount', 'shift=3,sleep=off').icountShift).toBe(3);
    expect(config('-kernel', kernel, '-icount', '0').icountShift).toBe(0);
  });

  it('-version and -h', () => {
    expect(parseCommandLine(['-version']).kind).toBe('version');
    expect(parseCommandLine(['--help']).kind).toBe('help');
  });

  const bad: [string[], RegExp][] = [
    [['-frobnicate'], /^-frobnicate: invalid option$/],
    [['kernel.elf'], /invalid option/],
    [['-kernel'], /^-kernel: requires an argument$/],
    [['-kernel', join(dir, 'missing.elf')], /^-kernel: could not open '.*missing.elf': No such file or directory$/],
    [['-kernel', dir], /is not a regular file/],
    [['-initrd', join(dir, 'nope')], /^-initrd: could not open/],
    [['-m', 'lots'], /^-m: invalid RAM size 'lots'$/],
    [['-m', '1M'], /too small/],
    [['-smp', 'two'], /^-smp: CPU count 'two' is not a number$/],
    [['-smp', '0'], /out of range/],
    [['-accel', 'tcg'], /^-accel: unknown accelerator 'tcg'/],
    [['-M', 'q35'], /^-M: unsupported machine type 'q35'/],
    [['-machine', 'pc,foo=1'], /unknown machine property 'foo'/],
    [['-cpu', 'pentium9'], /unknown CPU model 'pentium9'/],
    [['-cpu', 'max,+nosuch'], /unknown feature 'nosuch'/],
    [['-serial', 'tcp:1234'], /^-serial: unsupported backend 'tcp:1234'/],
    [['-serial', 'file:/no/such/dir/x'], /could not open/],
    [['-display', 'gtk'], /unsupported display 'gtk'/],
    [['-device', 'e1000'], /^-device: 'e1000' is not a valid device model name$/],
    [['-device', 'isa-debug-exit,iobase=zz'], /iobase 'zz' is not a number/],
    [['-device', 'isa-debug-exit,iosize=8'], /iosize 8 must be 1 to 4/],
    [['-device', 'isa-debug-exit,colour=red'], /has no property 'colour'/],
    [['-device', 'loader,addr=0x1000'], /loader needs file=/],
    [['-global', 'isa-debug-exit'], /driver.property=value/],
    [['-global', 'serial.baud=1'], /property 'serial.baud' not found/],
    [['-d', 'everything'], /^-d: unknown log item 'everything'/],
    [['-D', '/no/such/dir/log'], /could not open log file/],
    [['-nographic=1'], /invalid option/],
    [['-vga', 'cirrus'], /unsupported VGA card 'cirrus'/],
    [['-monitor', 'tcp:1'], /unsupported monitor backend/],
    [['-S', '-monitor', 'none'], /no monitor/],
    [['--no-reboot=yes'], /takes no argument/],
    [['-icount', 'shift=auto'], /^-icount: shift=auto is not supported/],
    [['-icount', 'shift=11'], /^-icount: shift 11 is too big/],
    [['-icount', 'shift=1,speed=9'], /^-icount: unknown property 'speed'/],
    [['-icount', 'sleep=maybe'], /^-icount: sleep must be on or off/],
  ];
  for (const [argv, msg] of bad) {
    it(`rejects ${argv.join(' ')}`, () => {
      expect(() => parseCommandLine(argv)).toThrow(msg);
    });
  }
});
