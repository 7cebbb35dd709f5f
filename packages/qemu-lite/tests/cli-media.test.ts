/** Command line and monitor for the display and sound devices. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError, parseCommandLine } from '../src/cli-args';
import { monitorCommand } from '../src/monitor';
import { VgaCore } from '../src/devices/vga/vga';
import { screendump } from '../src/display/screendump';
import { decodePng } from '../src/display/png';

const dir = mkdtempSync(join(tmpdir(), 'qemu-lite-cli-media-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (argv: string[]) => {
  const a = parseCommandLine(argv);
  if (a.kind !== 'run') throw new Error('not a run');
  return a.config;
};
const err = (argv: string[]) => {
  try {
    parseCommandLine(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('CLI: -vga, -device VGA, -display png:, -audiodev, -device AC97', () => {
  it('parses the QEMU spellings into the config', () => {
    const c = run(['-vga', 'std', '-display', `png:${dir}/s.png`, '-audiodev', `wav,id=snd0,path=${dir}/a.wav,out.frequency=44100`, '-device', 'AC97,audiodev=snd0']);
    expect(c.devices).toEqual([{ driver: 'VGA' }, { driver: 'AC97', audiodev: 'snd0' }]);
    expect(c.display).toEqual({ kind: 'png', path: `${dir}/s.png` });
    expect(c.audiodevs).toEqual([{ driver: 'wav', id: 'snd0', path: `${dir}/a.wav`, frequency: 44100 }]);
    expect(run(['-device', 'VGA', '-audiodev', 'none,id=x', '-device', 'AC97']).devices).toEqual([{ driver: 'VGA' }, { driver: 'AC97' }]);
    expect(run(['-vga', 'none', '-display', 'none']).devices).toEqual([]);
  });

  it('each bad option or value is a one-line error naming it', () => {
    expect(err(['-vga', 'cirrus'])).toBe("-vga: unsupported VGA card 'cirrus' (std or none)");
    expect(err(['-display', 'gtk'])).toBe("-display: unsupported display 'gtk' (none or png:PATH)");
    expect(err(['-display', 'png:'])).toBe('-display: png: needs a path');
    expect(err(['-vga', 'std', '-display', 'png:/no/such/dir/x.png'])).toBe("-display: could not open '/no/such/dir/x.png': No such file or directory");
    expect(err(['-display', `png:${dir}/x.png`])).toBe('-display png: no display device (add -vga std or -device VGA)');
    expect(err(['-device', 'VGA', '-device', 'VGA'])).toBe('-device VGA: only one VGA card is supported');
    expect(err(['-device', 'VGA,vgamem_mb=8'])).toBe("-device: VGA has no property 'vgamem_mb'");
    expect(err(['-audiodev', 'pa,id=x'])).toBe("-audiodev: unsupported audio driver 'pa' (wav or none)");
    expect(err(['-audiodev', 'wav,path=x.wav'])).toBe('-audiodev: id= is required');
    expect(err(['-audiodev', 'wav,id=a'])).toBe('-audiodev: wav needs path=FILE');
    expect(err(['-audiodev', 'none,id=a,path=x'])).toBe("-audiodev: none has no property 'path'");
    expect(err(['-audiodev', `wav,id=a,path=${dir}/a.wav,out.frequency=100`])).toBe('-audiodev: out.frequency 100 is out of range (8000-192000)');
    expect(err(['-audiodev', 'none,id=a', '-audiodev', 'none,id=a'])).toBe("-audiodev: duplicate id 'a'");
    expect(err(['-device', 'AC97,audiodev=snd9'])).toBe("-device AC97: audiodev 'snd9' not found (give -audiodev DRIVER,id=snd9)");
    expect(err(['-device', 'AC97,bus=pci.0'])).toBe("-device: AC97 has no property 'bus'");
  });
});

describe('CLI: -monitor unix:', () => {
  it('takes QEMU\'s socket spelling; rejects what it cannot do', () => {
    expect(run(['-monitor', `unix:${dir}/m.sock,server=on,wait=off`]).monitorSocket).toBe(`${dir}/m.sock`);
    expect(run(['-monitor', `unix:${dir}/m.sock,server,nowait`]).monitorSocket).toBe(`${dir}/m.sock`);
    expect(err(['-monitor', `unix:${dir}/m.sock,server=on,wait=on`])).toBe("-monitor: unsupported socket option 'wait=on' (server=on,wait=off)");
    expect(err(['-monitor', 'unix:'])).toBe('-monitor: unix: needs a socket path');
    expect(err(['-monitor', 'unix:/no/such/dir/m.sock,server=on,wait=off'])).toBe("-monitor: could not open '/no/such/dir/m.sock': No such file or directory");
    expect(err(['-S', '-monitor', `unix:${dir}/m.sock,server=on,wait=off`])).toBe('-S: the paused-start monitor is on stdio (use -monitor stdio)');
  });
});

describe('monitor: screendump', () => {
  it('writes the screen as PNG, and says why it cannot', () => {
    const vga = new VgaCore({ vramSize: 1 << 20 });
    const file = join(dir, 'dump.png');
    const t = { vcpus: [], screendump: (f: string) => screendump(vga, f) };
    expect(monitorCommand(`screendump ${file}`, t).output).toBe('');
    expect(existsSync(file)).toBe(true);
    const img = decodePng(readFileSync(file));
    expect([img.width, img.height]).toEqual([720, 400]);
    expect(monitorCommand('screendump', t).output).toBe('screendump: a file name is required\n');
    expect(monitorCommand(`screendump ${file}`, { vcpus: [] }).output).toBe('screendump: no display device (-vga std or -device VGA)\n');
    expect(monitorCommand('screendump /no/such/dir/x.png', t).output).toMatch(/^screendump: ENOENT/);
  });
});
