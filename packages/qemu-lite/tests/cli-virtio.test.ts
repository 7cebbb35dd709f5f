/** -drive, -netdev and the virtio -device options: what they produce and their one-line errors. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CliError, parseCommandLine } from '../src/cli-args';

const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-cli-virtio-'));
const kernel = join(dir, 'kernel.elf');
writeFileSync(kernel, 'x');
const disk = join(dir, 'disk.raw');
writeFileSync(disk, new Uint8Array(4096));

function config(...argv: string[]) {
  const a = parseCommandLine(['-kernel', kernel, ...argv]);
  if (a.kind !== 'run') throw new Error(a.kind);
  return a.config;
}

function error(...argv: string[]): string {
  try {
    parseCommandLine(['-kernel', kernel, ...argv]);
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('-drive / -device virtio-blk-pci', () => {
  it('if=virtio makes its own virtio-blk-pci (id virtioN); if=none waits for -device ...,drive=ID', () => {
    const c = config('-drive', `file=${disk},format=raw,if=virtio,readonly=on`, '-drive', `file=${disk},if=none,id=data`,
      '-device', 'virtio-blk-pci,drive=data,serial=S1,addr=0x5');
    expect(c.drives).toEqual([
      { id: 'virtio0', file: disk, format: 'raw', interface: 'virtio', readonly: true },
      { id: 'data', file: disk, format: 'raw', interface: 'none', readonly: false },
    ]);
    expect(c.devices).toEqual([{ driver: 'virtio-blk-pci', drive: 'data', serial: 'S1', addr: 5 }, { driver: 'virtio-blk-pci', drive: 'virtio0' }]);
  });

  it('bad files, formats, interfaces and references are one-line errors naming the option', () => {
    expect(error('-drive', `file=${join(dir, 'nope.raw')},format=raw,if=virtio`)).toBe(`-drive: could not open '${join(dir, 'nope.raw')}': No such file or directory`);
    expect(error('-drive', `file=${dir},if=virtio`)).toBe(`-drive: '${dir}' is not a regular file`);
    expect(error('-drive', 'format=raw,if=virtio')).toBe('-drive: file= is required');
    expect(error('-drive', `file=${disk},format=vmdk,if=virtio`)).toBe("-drive: format 'vmdk' is not supported (raw or qcow2)");
    expect(error('-drive', `file=${disk},format=qcow2,if=virtio`)).toBe(`-drive: '${disk}' is not a qcow2 image`);
    expect(error('-drive', `file=${disk}`)).toBe('-drive: if=ide is not supported (use if=virtio or if=none)');
    expect(error('-drive', `file=${disk},if=none`)).toBe('-drive: if=none needs id=');
    expect(error('-drive', `file=${disk},if=virtio,readonly=maybe`)).toBe("-drive: readonly must be on or off, not 'maybe'");
    expect(error('-drive', `file=${disk},if=virtio,bogus=1`)).toBe("-drive: invalid parameter 'bogus'");
    expect(error('-device', 'virtio-blk-pci,drive=d9')).toBe("-device virtio-blk-pci: drive 'd9' not found");
    expect(error('-device', 'virtio-blk-pci')).toBe('-device: virtio-blk-pci needs drive=ID');
    expect(error('-drive', `file=${disk},if=none,id=a`, '-drive', `file=${disk},if=none,id=a`)).toBe("-drive: duplicate ID 'a'");
    expect(error('-drive', `file=${disk},if=none,id=a`, '-device', 'virtio-blk-pci,drive=a', '-device', 'virtio-blk-pci,drive=a'))
      .toBe("-device virtio-blk-pci: drive 'a' is already in use by another device");
    expect(error('-drive', `file=${disk},if=virtio,id=a`, '-device', 'virtio-blk-pci,drive=a')).toMatch(/drive 'a' is already in use \(if=virtio/);
    expect(error('-drive', `file=${disk},if=none,id=a`, '-device', 'virtio-blk-pci,drive=a,addr=1')).toMatch(/addr '1': slot 1 is not free/);
    expect(error('-drive', `file=${disk},if=none,id=a`, '-device', 'virtio-blk-pci,drive=a,disable-modern=on')).toMatch(/modern-only/);
  });
});

describe('-netdev / -device virtio-net-pci', () => {
  it('socket listen/connect and dgram parse into netdevs', () => {
    const c = config('-netdev', 'socket,id=n0,listen=127.0.0.1:5555', '-netdev', 'socket,id=n1,connect=:5556',
      '-netdev', 'dgram,id=n2,local.type=inet,local.host=127.0.0.1,local.port=1234,remote.type=inet,remote.host=127.0.0.1,remote.port=1235',
      '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56', '-device', 'virtio-net-pci,netdev=n2');
    expect(c.netdevs).toEqual([
      { type: 'socket', id: 'n0', mode: 'listen', addr: { host: '127.0.0.1', port: 5555 } },
      { type: 'socket', id: 'n1', mode: 'connect', addr: { host: '', port: 5556 } },
      { type: 'dgram', id: 'n2', local: { host: '127.0.0.1', port: 1234 }, remote: { host: '127.0.0.1', port: 1235 } },
    ]);
    expect(c.devices).toEqual([{ driver: 'virtio-net-pci', netdev: 'n0', mac: '52:54:00:12:34:56' }, { driver: 'virtio-net-pci', netdev: 'n2' }]);
  });

  it('bad netdevs and NICs are one-line errors', () => {
    expect(error('-netdev', 'user,id=n0')).toBe("-netdev: backend type 'user' is not supported (socket or dgram)");
    expect(error('-netdev', 'socket,listen=:1')).toBe('-netdev: socket: id= is required');
    expect(error('-netdev', 'socket,id=n0')).toBe('-netdev: socket: exactly one of listen= and connect= is needed');
    expect(error('-netdev', 'socket,id=n0,listen=:1,connect=:2')).toBe('-netdev: socket: exactly one of listen= and connect= is needed');
    expect(error('-netdev', 'socket,id=n0,listen=localhost')).toBe("-netdev: listen='localhost' is not HOST:PORT");
    expect(error('-netdev', 'socket,id=n0,listen=:99999')).toMatch(/port '99999' is not a number/);
    expect(error('-netdev', 'dgram,id=n0,local.type=unix,local.path=/x')).toMatch(/invalid parameter 'local.path'/);
    expect(error('-netdev', 'dgram,id=n0,local.type=inet,local.host=h,local.port=1')).toBe('-netdev: dgram: remote.type must be inet');
    expect(error('-device', 'virtio-net-pci,netdev=zz')).toBe("-device virtio-net-pci: netdev 'zz' not found");
    expect(error('-netdev', 'socket,id=n0,listen=:1', '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:12:34')).toMatch(/mac '52:54:00:12:34' is not a MAC address/);
    expect(error('-netdev', 'socket,id=n0,listen=:1', '-device', 'virtio-net-pci,netdev=n0,mac=01:54:00:12:34:56')).toMatch(/multicast/);
    expect(error('-netdev', 'socket,id=n0,listen=:1', '-netdev', 'socket,id=n0,listen=:2')).toBe("-netdev: duplicate ID 'n0'");
  });
});

describe('qemu-lite process', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const cli = resolve(here, '../src/cli.ts');
  it('a bad -drive file exits 1 with one line naming it, before any guest runs', () => {
    const missing = join(dir, 'missing.img');
    const r = spawnSync(process.execPath, ['--conditions=@kvmts/source', '--import', 'tsx', cli, '-drive', `file=${missing},format=raw,if=virtio`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`qemu-lite: -drive: could not open '${missing}': No such file or directory\n`);
    expect(r.stdout).toBe('');
  });
});
