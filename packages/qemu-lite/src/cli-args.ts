/**
 * QEMU's command-line syntax for qemu-lite's subset: options with one or two leading
 * dashes, "-opt value" or "--opt=value", QemuOpts-style "key=value,key=value" arguments.
 * Produces a MachineConfig (validated) or a one-line error naming the option.
 */
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ACCEL_NAMES, ConfigError, LOG_ITEMS, MACHINE_TYPES, parseMachineConfig, type AccelName, type AudiodevConfig, type DeviceConfig, type DisplayConfig, type DriveConfig, type LogItem, type MachineConfigInput, type NetdevConfig, type SerialBackend } from './config';
import { parseCpuSpec } from './cpu-model';
import { parseMemSize } from './machine/pc-layout';
import { isQcow2 } from './block/qcow2';

export type CliAction =
  | { kind: 'run'; config: MachineConfigInput; hostAccel: boolean }
  | { kind: 'version' }
  | { kind: 'help' };

interface OptDef {
  arg: boolean;
}

const OPTIONS: Record<string, OptDef> = {
  kernel: { arg: true }, initrd: { arg: true }, append: { arg: true }, m: { arg: true }, smp: { arg: true },
  accel: { arg: true }, machine: { arg: true }, M: { arg: true }, cpu: { arg: true }, serial: { arg: true },
  display: { arg: true }, nographic: { arg: false }, nodefaults: { arg: false }, 'no-reboot': { arg: false },
  device: { arg: true }, global: { arg: true }, name: { arg: true }, S: { arg: false }, d: { arg: true },
  D: { arg: true }, version: { arg: false }, h: { arg: false }, help: { arg: false }, vnc: { arg: true },
  vga: { arg: true }, monitor: { arg: true }, audiodev: { arg: true },
  'enable-kvm': { arg: false },
  drive: { arg: true }, netdev: { arg: true },
  icount: { arg: true },
};

export const HELP_TEXT = `usage: qemu-lite [options]
  -kernel FILE          multiboot, Linux bzImage, PVH ELF (vmlinux) or ELF kernel (none: the built-in demo guest)
  -initrd "FILE [ARGS],..."  multiboot modules; Linux/PVH: the initrd (several files are concatenated)
  -append STRING        kernel command line
  -m SIZE               RAM size (MiB, or with a K/M/G suffix; default 128M)
  -smp N                number of vCPUs
  -accel kvm-intel|kvm-amd|kvm-s390   vendor module (default: the host CPU's)
  -machine/-M pc|microvm|s390-ccw-virtio[,accel=NAME][,acpi=on|off][,linux-fast-boot=on|off]
                        linux-fast-boot=on: decompress a bzImage's kernel (xz, gzip) on the host and
                        enter it directly (PVH if the ELF has the note); default off: the boot protocol
  -cpu MODEL[,+feat,-feat,feat=on|off,vendor=STR]   qemu64, kvm64, qemu32, max, host
  -serial stdio|file:PATH|none   next serial port's backend
  -device virtio-blk-pci,drive=ID[,addr=SLOT,serial=S] | virtio-net-pci,netdev=ID[,mac=52:54:00:xx:xx:xx,addr=SLOT]
  -drive file=PATH[,format=raw|qcow2][,if=virtio|none][,readonly=on][,id=ID]
  -netdev socket,id=ID,listen=HOST:PORT|connect=HOST:PORT
  -netdev dgram,id=ID,local.type=inet,local.host=H,local.port=P,remote.type=inet,remote.host=H,remote.port=P
  -display none|png:PATH (PNG of the screen at exit and on SIGUSR1), -vga std|none
  -monitor stdio|none|unix:PATH,server=on,wait=off (commands while the guest runs, e.g. screendump FILE)
  -nographic, -nodefaults, -no-reboot
  -audiodev wav,id=ID,path=FILE[,out.frequency=HZ] | none,id=ID
  -device isa-debug-exit[,iobase=N,iosize=N] | pc-testdev | pci-testdev | VGA | AC97[,audiodev=ID]
          | loader,file=F,addr=A[,cpu-num=N,mode=real|protected|long]
  -global DRIVER.PROP=VALUE (isa-debug-exit.iobase/iosize, kvm-pit.lost_tick_policy=delay|discard)
  -icount shift=N[,sleep=off]   deterministic virtual clock: 2^N ns per guest instruction
  -name NAME, -S (start paused: monitor on stdio), -d ITEM[,ITEM] (${LOG_ITEMS.join(', ')}), -D LOGFILE
  -version, -h
`;

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Splits "a=1,b=2" (QemuOpts); a leading bare word is returned as `implied` (e.g. the driver). */
export function parseKeyValues(s: string, option: string, impliedKey?: string): Map<string, string> {
  const out = new Map<string, string>();
  // ",," escapes a comma inside a value, as in QemuOpts.
  const parts = s.replace(/,,/g, '\u0000').split(',').map((p) => p.replace(/\u0000/g, ','));
  parts.forEach((p, i) => {
    if (p === '') return;
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (i === 0 && impliedKey !== undefined) out.set(impliedKey, p);
      else throw new CliError(`${option}: '${p}' is not of the form key=value`);
      return;
    }
    out.set(p.slice(0, eq), p.slice(eq + 1));
  });
  return out;
}

/** QEMU's integer syntax: decimal, 0x hex, 0 octal. */
export function parseNumber(v: string, option: string, what: string): number {
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(v)) n = parseInt(v.slice(2), 16);
  else if (/^0[0-7]+$/.test(v)) n = parseInt(v, 8);
  else if (/^\d+$/.test(v)) n = parseInt(v, 10);
  else throw new CliError(`${option}: ${what} '${v}' is not a number`);
  return n;
}

function parseAccel(v: string, option: string): AccelName | 'host' {
  if (v === 'kvm') return 'host';
  if ((ACCEL_NAMES as readonly string[]).includes(v)) return v as AccelName;
  throw new CliError(`${option}: unknown accelerator '${v}' (use ${ACCEL_NAMES.join(', ')})`);
}

function checkReadableFile(path: string, option: string): void {
  if (!existsSync(path)) throw new CliError(`${option}: could not open '${path}': No such file or directory`);
  if (!statSync(path).isFile()) throw new CliError(`${option}: '${path}' is not a regular file`);
}

/** Parses argv (without node and script). Throws CliError with a one-line message. */
export function parseCommandLine(argv: readonly string[]): CliAction {
  const cfg: MachineConfigInput = {};
  let accel: AccelName | 'host' | undefined;
  const serial: SerialBackend[] = [];
  let nodefaults = false;
  let nographic = false;
  const devices: DeviceConfig[] = [];
  const globals: { driver: string; prop: string; value: string }[] = [];
  const log: LogItem[] = [];
  const drives: DriveConfig[] = [];
  const netdevs: NetdevConfig[] = [];
  let monitor: 'stdio' | 'none' | 'unix' = 'stdio';
  let display: DisplayConfig = { kind: 'none' };
  const audiodevs: AudiodevConfig[] = [];

  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (!raw.startsWith('-') || raw === '-' || raw === '--') throw new CliError(`${raw}: invalid option (options start with -)`);
    let name = raw.replace(/^--?/, '');
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (raw.startsWith('--') && eq > 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const def = OPTIONS[name];
    if (def === undefined) throw new CliError(`-${name}: invalid option`);
    const opt = `-${name}`;
    if (def.arg && value === undefined) {
      if (i + 1 >= argv.length) throw new CliError(`${opt}: requires an argument`);
      value = argv[++i]!;
    } else if (!def.arg && value !== undefined) {
      throw new CliError(`${opt}: takes no argument`);
    }
    const v = value ?? '';
    switch (name) {
      case 'version': return { kind: 'version' };
      case 'h': case 'help': return { kind: 'help' };
      case 'kernel':
        checkReadableFile(v, opt);
        cfg.kernel = v;
        break;
      case 'initrd': {
        const mods = v.replace(/,,/g, '\u0000').split(',').map((m) => m.replace(/\u0000/g, ',').trim()).filter((m) => m !== '');
        if (mods.length === 0) throw new CliError(`${opt}: no file given`);
        for (const m of mods) checkReadableFile(m.split(/\s+/)[0]!, opt);
        cfg.initrd = mods;
        break;
      }
      case 'append': cfg.append = v; break;
      case 'm': {
        const kv = v.includes('=') ? parseKeyValues(v, opt, 'size') : new Map([['size', v]]);
        const size = parseMemSize(kv.get('size') ?? '');
        if (size === undefined) throw new CliError(`${opt}: invalid RAM size '${kv.get('size') ?? v}'`);
        if (size < 2 * 1024 * 1024) throw new CliError(`${opt}: RAM size '${v}' is too small (at least 2M)`);
        if (size % 4096 !== 0) throw new CliError(`${opt}: RAM size '${v}' is not a multiple of 4 KiB`);
        cfg.memSize = size;
        break;
      }
      case 'smp': {
        const kv = parseKeyValues(v, opt, 'cpus');
        const n = parseNumber(kv.get('cpus') ?? '', opt, 'CPU count');
        if (n < 1 || n > 255) throw new CliError(`${opt}: CPU count ${n} is out of range (1-255)`);
        cfg.smp = n;
        break;
      }
      case 'accel': {
        const kv = parseKeyValues(v, opt, 'accel');
        accel = parseAccel(kv.get('accel') ?? '', opt);
        break;
      }
      case 'machine': case 'M': {
        const kv = parseKeyValues(v, opt, 'type');
        const type = kv.get('type');
        if (type !== undefined) {
          if (!(MACHINE_TYPES as readonly string[]).includes(type)) throw new CliError(`${opt}: unsupported machine type '${type}' (use ${MACHINE_TYPES.join(', ')})`);
          cfg.machine = type as (typeof MACHINE_TYPES)[number];
        }
        for (const [k, val] of kv) {
          if (k === 'type') continue;
          if (k === 'accel') accel = parseAccel(val, opt);
          else if (k === 'acpi') {
            if (val !== 'on' && val !== 'off') throw new CliError(`${opt}: acpi must be on or off, not '${val}'`);
            cfg.acpi = val === 'on';
          } else if (k === 'linux-fast-boot') {
            if (val !== 'on' && val !== 'off') throw new CliError(`${opt}: linux-fast-boot must be on or off, not '${val}'`);
            cfg.linuxFastBoot = val === 'on';
          } else throw new CliError(`${opt}: unknown machine property '${k}'`);
        }
        break;
      }
      case 'cpu':
        try {
          cfg.cpu = parseCpuSpec(v);
        } catch (e) {
          throw new CliError((e as Error).message);
        }
        break;
      case 'serial':
        if (v === 'stdio') serial.push({ kind: 'stdio' });
        else if (v === 'none' || v === 'null') serial.push({ kind: 'none' });
        else if (v.startsWith('file:')) {
          const path = v.slice(5);
          if (path === '') throw new CliError(`${opt}: file: needs a path`);
          if (!existsSync(dirname(path) || '.')) throw new CliError(`${opt}: could not open '${path}': No such file or directory`);
          serial.push({ kind: 'file', path });
        } else throw new CliError(`${opt}: unsupported backend '${v}' (use stdio, file:PATH or none)`);
        break;
      case 'display':
        if (v === 'none') display = { kind: 'none' };
        else if (v.startsWith('png:')) {
          const path = v.slice(4);
          if (path === '') throw new CliError(`${opt}: png: needs a path`);
          if (!existsSync(dirname(path) || '.')) throw new CliError(`${opt}: could not open '${path}': No such file or directory`);
          display = { kind: 'png', path };
        } else throw new CliError(`${opt}: unsupported display '${v}' (none or png:PATH)`);
        break;
      case 'audiodev': audiodevs.push(parseAudiodev(v, opt)); break;
      case 'vnc':
        if (v !== 'none') throw new CliError(`${opt}: unsupported (only -vnc none)`);
        break;
      case 'vga':
        if (v === 'std') devices.push({ driver: 'VGA' });
        else if (v !== 'none') throw new CliError(`${opt}: unsupported VGA card '${v}' (std or none)`);
        break;
      case 'monitor':
        if (v.startsWith('unix:')) {
          // QEMU's older flag spellings: server, nowait.
          const opts = v.slice(5).split(',').map((p, i) => (i > 0 && p === 'server' ? 'server=on' : i > 0 && p === 'nowait' ? 'wait=off' : p)).join(',');
          const kv = parseKeyValues(opts, opt, 'path');
          const path = kv.get('path') ?? '';
          if (path === '') throw new CliError(`${opt}: unix: needs a socket path`);
          for (const [k, val] of kv) {
            if (k === 'path') continue;
            if (k === 'server' && val === 'on') continue;
            if (k === 'wait' && val === 'off') continue;
            throw new CliError(`${opt}: unsupported socket option '${k}${val ? `=${val}` : ''}' (server=on,wait=off)`);
          }
          if (!existsSync(dirname(path) || '.')) throw new CliError(`${opt}: could not open '${path}': No such file or directory`);
          monitor = 'unix';
          cfg.monitorSocket = path;
          break;
        }
        if (v !== 'none' && v !== 'stdio') throw new CliError(`${opt}: unsupported monitor backend '${v}' (stdio, none or unix:PATH,server=on,wait=off)`);
        monitor = v;
        break;
      case 'nographic': nographic = true; break;
      case 'nodefaults': nodefaults = true; break;
      case 'no-reboot': cfg.noReboot = true; break;
      case 'enable-kvm': accel = 'host'; break;
      case 'device': devices.push(parseDevice(v, opt)); break;
      case 'drive': drives.push(parseDrive(v, opt, drives.length)); break;
      case 'netdev': netdevs.push(parseNetdev(v, opt)); break;
      case 'global': {
        const m = /^([a-z0-9-]+)\.([a-z0-9_-]+)=(.*)$/i.exec(v);
        if (m === null) throw new CliError(`${opt}: '${v}' is not of the form driver.property=value`);
        globals.push({ driver: m[1]!, prop: m[2]!, value: m[3]! });
        break;
      }
      case 'name': cfg.name = parseKeyValues(v, opt, 'guest').get('guest') ?? v; break;
      case 'S': cfg.startPaused = true; break;
      case 'd':
        for (const item of v.split(',')) {
          if (!(LOG_ITEMS as readonly string[]).includes(item)) throw new CliError(`${opt}: unknown log item '${item}' (known: ${LOG_ITEMS.join(', ')})`);
          log.push(item as LogItem);
        }
        break;
      case 'icount': {
        // QEMU's -icount: time follows executed instructions (2^shift ns each); idle
        // time is skipped (sleep=off), so the same guest gives the same output.
        const kv = parseKeyValues(v, opt, 'shift');
        for (const k of kv.keys()) if (k !== 'shift' && k !== 'sleep' && k !== 'align') throw new CliError(`${opt}: unknown property '${k}'`);
        const shift = kv.get('shift') ?? '0';
        if (shift === 'auto') throw new CliError(`${opt}: shift=auto is not supported (give shift=N)`);
        const n = parseNumber(shift, opt, 'shift');
        if (n > 10) throw new CliError(`${opt}: shift ${n} is too big (at most 10)`);
        const sleep = kv.get('sleep');
        if (sleep !== undefined && sleep !== 'on' && sleep !== 'off') throw new CliError(`${opt}: sleep must be on or off, not '${sleep}'`);
        cfg.icountShift = n;
        break;
      }
      case 'D':
        if (!existsSync(dirname(v) || '.')) throw new CliError(`${opt}: could not open log file '${v}': No such file or directory`);
        cfg.logfile = v;
        break;
    }
  }

  // -global applies to the matching -device entries (and to their defaults).
  for (const g of globals) {
    if (g.driver === 'kvm-pit' && g.prop === 'lost_tick_policy') {
      if (g.value !== 'delay' && g.value !== 'discard') throw new CliError(`-global: kvm-pit.lost_tick_policy must be delay or discard, not '${g.value}'`);
      cfg.pitLostTickPolicy = g.value;
      continue;
    }
    const matches = devices.filter((d) => d.driver === g.driver);
    if (g.driver !== 'isa-debug-exit' || (g.prop !== 'iobase' && g.prop !== 'iosize'))
      throw new CliError(`-global: property '${g.driver}.${g.prop}' not found`);
    for (const d of matches) (d as Record<string, unknown>)[g.prop] = parseNumber(g.value, '-global', g.prop);
  }

  const ids = new Set<string>();
  for (const a of audiodevs) {
    if (ids.has(a.id)) throw new CliError(`-audiodev: duplicate id '${a.id}'`);
    ids.add(a.id);
  }
  for (const d of devices) {
    if (d.driver === 'AC97' && d.audiodev !== undefined && !ids.has(d.audiodev)) throw new CliError(`-device AC97: audiodev '${d.audiodev}' not found (give -audiodev DRIVER,id=${d.audiodev})`);
  }
  if (devices.filter((d) => d.driver === 'VGA').length > 1) throw new CliError('-device VGA: only one VGA card is supported');
  if (display.kind === 'png' && !devices.some((d) => d.driver === 'VGA')) throw new CliError('-display png: no display device (add -vga std or -device VGA)');
  cfg.display = display;
  cfg.audiodevs = audiodevs;
  if (cfg.startPaused && monitor === 'none') throw new CliError('-S: no monitor to continue the guest from (-monitor none)');
  if (cfg.startPaused && monitor === 'unix') throw new CliError('-S: the paused-start monitor is on stdio (use -monitor stdio)');
  if (serial.length > 0) cfg.serial = serial;
  else if (nodefaults && !nographic) cfg.serial = [];
  else cfg.serial = [{ kind: 'stdio' }];
  checkBackends(drives, netdevs, devices);
  cfg.devices = devices;
  cfg.drives = drives;
  cfg.netdevs = netdevs;
  cfg.log = log;
  if (nographic) cfg.stdioSignals = false;
  if (accel !== undefined && accel !== 'host') cfg.accel = accel;
  try {
    parseMachineConfig(cfg);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
  return { kind: 'run', config: cfg, hostAccel: accel === undefined || accel === 'host' };
}

function parseDevice(v: string, opt: string): DeviceConfig {
  const kv = parseKeyValues(v, opt, 'driver');
  const driver = kv.get('driver');
  if (driver === undefined) throw new CliError(`${opt}: no driver given`);
  const known = (keys: string[]) => {
    for (const k of kv.keys()) if (k !== 'driver' && !keys.includes(k)) throw new CliError(`${opt}: ${driver} has no property '${k}'`);
  };
  switch (driver) {
    case 'isa-debug-exit': {
      known(['iobase', 'iosize']);
      const d: DeviceConfig = { driver, iobase: 0x501, iosize: 2 };
      if (kv.has('iobase')) d.iobase = parseNumber(kv.get('iobase')!, opt, 'iobase');
      if (kv.has('iosize')) d.iosize = parseNumber(kv.get('iosize')!, opt, 'iosize');
      if (d.iobase > 0xffff) throw new CliError(`${opt}: iobase 0x${d.iobase.toString(16)} is beyond the I/O space`);
      if (d.iosize < 1 || d.iosize > 4) throw new CliError(`${opt}: iosize ${d.iosize} must be 1 to 4`);
      return d;
    }
    case 'pc-testdev':
    case 'pci-testdev':
    case 'VGA':
      known([]);
      return { driver };
    case 'virtio-blk-pci': {
      known(['drive', 'addr', 'serial', 'id', 'disable-legacy', 'disable-modern']);
      checkModernOnly(kv, opt, driver);
      const drive = kv.get('drive');
      if (drive === undefined || drive === '') throw new CliError(`${opt}: virtio-blk-pci needs drive=ID`);
      const d: DeviceConfig = { driver, drive };
      if (kv.has('addr')) d.addr = parsePciAddr(kv.get('addr')!, opt);
      if (kv.has('serial')) {
        const serial = kv.get('serial')!;
        if (serial.length > 20) throw new CliError(`${opt}: serial '${serial}' is longer than 20 characters`);
        d.serial = serial;
      }
      return d;
    }
    case 'virtio-net-pci': {
      known(['netdev', 'mac', 'addr', 'id', 'disable-legacy', 'disable-modern']);
      checkModernOnly(kv, opt, driver);
      const netdev = kv.get('netdev');
      if (netdev === undefined || netdev === '') throw new CliError(`${opt}: virtio-net-pci needs netdev=ID`);
      const d: DeviceConfig = { driver, netdev };
      if (kv.has('mac')) {
        const mac = kv.get('mac')!;
        if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw new CliError(`${opt}: mac '${mac}' is not a MAC address (xx:xx:xx:xx:xx:xx)`);
        if (parseInt(mac.slice(0, 2), 16) & 1) throw new CliError(`${opt}: mac '${mac}' is a multicast address`);
        d.mac = mac;
      }
      if (kv.has('addr')) d.addr = parsePciAddr(kv.get('addr')!, opt);
      return d;
    }
    case 'AC97': {
      known(['audiodev']);
      const audiodev = kv.get('audiodev');
      if (audiodev === '') throw new CliError(`${opt}: AC97: audiodev= needs an id`);
      return audiodev === undefined ? { driver } : { driver, audiodev };
    }
    case 'loader': {
      known(['file', 'addr', 'cpu-num', 'mode']);
      const file = kv.get('file');
      if (file === undefined) throw new CliError(`${opt}: loader needs file=`);
      checkReadableFile(file, opt);
      if (!kv.has('addr')) throw new CliError(`${opt}: loader needs addr=`);
      const addr = parseNumber(kv.get('addr')!, opt, 'addr');
      const mode = kv.get('mode') ?? 'protected';
      if (mode !== 'real' && mode !== 'protected' && mode !== 'long') throw new CliError(`${opt}: mode '${mode}' must be real, protected or long`);
      const d: DeviceConfig = { driver, file, addr, mode };
      if (kv.has('cpu-num')) d.cpuNum = parseNumber(kv.get('cpu-num')!, opt, 'cpu-num');
      return d;
    }
    default:
      throw new CliError(`${opt}: '${driver}' is not a valid device model name`);
  }
}

/** virtio devices here are modern-only (QEMU's disable-legacy=on); disable-modern=on cannot work. */
function checkModernOnly(kv: Map<string, string>, opt: string, driver: string): void {
  const dm = kv.get('disable-modern');
  if (dm !== undefined && dm !== 'off' && dm !== 'false') throw new CliError(`${opt}: ${driver}: disable-modern=${dm} is not supported (qemu-lite's virtio is modern-only)`);
  const dl = kv.get('disable-legacy');
  if (dl !== undefined && !['on', 'off', 'auto', 'true', 'false'].includes(dl)) throw new CliError(`${opt}: ${driver}: disable-legacy must be on, off or auto, not '${dl}'`);
}

/** addr=SLOT or addr=SLOT.FN (function 0 only), QEMU's PCI address syntax. */
function parsePciAddr(v: string, opt: string): number {
  const m = /^(?:0x)?([0-9a-f]{1,2})(?:\.0)?$/i.exec(v);
  if (m === null) throw new CliError(`${opt}: addr '${v}' is not a PCI slot (e.g. addr=0x5 or addr=05.0)`);
  const slot = parseInt(m[1]!, 16);
  if (slot < 2 || slot > 31) throw new CliError(`${opt}: addr '${v}': slot ${slot} is not free (0 and 1 are the host bridge and PIIX; at most 31)`);
  return slot;
}

function onOff(v: string, opt: string, key: string): boolean {
  if (v === 'on' || v === 'true' || v === 'yes') return true;
  if (v === 'off' || v === 'false' || v === 'no') return false;
  throw new CliError(`${opt}: ${key} must be on or off, not '${v}'`);
}

/** -drive file=PATH,format=raw,if=virtio|none[,readonly=on][,id=ID] */
function parseDrive(v: string, opt: string, index: number): DriveConfig {
  const kv = parseKeyValues(v, opt);
  for (const k of kv.keys())
    if (!['file', 'format', 'if', 'readonly', 'id', 'cache', 'media', 'index', 'discard', 'aio'].includes(k)) throw new CliError(`${opt}: invalid parameter '${k}'`);
  const file = kv.get('file');
  if (file === undefined || file === '') throw new CliError(`${opt}: file= is required`);
  checkReadableFile(file, opt);
  // Without format= QEMU probes the image; so do we (qcow2 magic, else raw).
  const format = kv.get('format') ?? (isQcow2(file) ? 'qcow2' : 'raw');
  if (format !== 'raw' && format !== 'qcow2') throw new CliError(`${opt}: format '${format}' is not supported (raw or qcow2)`);
  if (format === 'qcow2' && !isQcow2(file)) throw new CliError(`${opt}: '${file}' is not a qcow2 image`);
  const iface = kv.get('if') ?? 'ide';
  if (iface !== 'virtio' && iface !== 'none') throw new CliError(`${opt}: if=${iface} is not supported (use if=virtio or if=none)`);
  const media = kv.get('media');
  if (media !== undefined && media !== 'disk') throw new CliError(`${opt}: media=${media} is not supported (only disk)`);
  const readonly = kv.has('readonly') ? onOff(kv.get('readonly')!, opt, 'readonly') : false;
  if (!readonly) {
    try {
      accessSync(file, fsConstants.W_OK);
    } catch {
      throw new CliError(`${opt}: could not open '${file}': Permission denied (use readonly=on)`);
    }
  }
  const id = kv.get('id') ?? (iface === 'virtio' ? `virtio${index}` : undefined);
  if (id === undefined || id === '') throw new CliError(`${opt}: if=none needs id=`);
  return { id, file, format, interface: iface, readonly };
}

function hostPort(s: string, opt: string, key: string): { host: string; port: number } {
  const i = s.lastIndexOf(':');
  if (i < 0) throw new CliError(`${opt}: ${key}='${s}' is not HOST:PORT`);
  const port = s.slice(i + 1);
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new CliError(`${opt}: ${key}='${s}': port '${port}' is not a number from 0 to 65535`);
  return { host: s.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(port) };
}

/** -netdev socket,id=,listen=|connect= and -netdev dgram,id=,local.*=,remote.*= */
function parseNetdev(v: string, opt: string): NetdevConfig {
  const kv = parseKeyValues(v, opt, 'type');
  const type = kv.get('type');
  const id = kv.get('id');
  if (type === undefined) throw new CliError(`${opt}: no backend type given (socket or dgram)`);
  if (id === undefined || id === '') throw new CliError(`${opt}: ${type}: id= is required`);
  const allow = (keys: string[]) => {
    for (const k of kv.keys()) if (k !== 'type' && k !== 'id' && !keys.includes(k)) throw new CliError(`${opt}: ${type}: invalid parameter '${k}'`);
  };
  if (type === 'socket') {
    allow(['listen', 'connect']);
    const listen = kv.get('listen');
    const connect = kv.get('connect');
    if ((listen === undefined) === (connect === undefined)) throw new CliError(`${opt}: socket: exactly one of listen= and connect= is needed`);
    return listen !== undefined
      ? { type, id, mode: 'listen', addr: hostPort(listen, opt, 'listen') }
      : { type, id, mode: 'connect', addr: hostPort(connect!, opt, 'connect') };
  }
  if (type === 'dgram') {
    allow(['local.type', 'local.host', 'local.port', 'remote.type', 'remote.host', 'remote.port']);
    const side = (which: 'local' | 'remote') => {
      const t = kv.get(`${which}.type`);
      if (t !== 'inet') throw new CliError(`${opt}: dgram: ${which}.type must be inet${t === undefined ? '' : `, not '${t}'`}`);
      const host = kv.get(`${which}.host`);
      const port = kv.get(`${which}.port`);
      if (host === undefined || port === undefined) throw new CliError(`${opt}: dgram: ${which}.host and ${which}.port are required`);
      if (!/^\d+$/.test(port) || Number(port) > 65535) throw new CliError(`${opt}: dgram: ${which}.port '${port}' is not a number from 0 to 65535`);
      return { host, port: Number(port) };
    };
    return { type, id, local: side('local'), remote: side('remote') };
  }
  throw new CliError(`${opt}: backend type '${type}' is not supported (socket or dgram)`);
}

/** Every -device names an existing backend, once; if=virtio drives get their device. */
function checkBackends(drives: DriveConfig[], netdevs: NetdevConfig[], devices: DeviceConfig[]): void {
  const seen = new Set<string>();
  for (const d of drives) {
    if (seen.has(d.id)) throw new CliError(`-drive: duplicate ID '${d.id}'`);
    seen.add(d.id);
  }
  const nseen = new Set<string>();
  for (const n of netdevs) {
    if (nseen.has(n.id)) throw new CliError(`-netdev: duplicate ID '${n.id}'`);
    nseen.add(n.id);
  }
  const usedDrives = new Set<string>();
  const usedNetdevs = new Set<string>();
  for (const d of devices) {
    if (d.driver === 'virtio-blk-pci') {
      const drive = drives.find((x) => x.id === d.drive);
      if (drive === undefined) throw new CliError(`-device virtio-blk-pci: drive '${d.drive}' not found`);
      if (drive.interface !== 'none') throw new CliError(`-device virtio-blk-pci: drive '${d.drive}' is already in use (if=${drive.interface}; use if=none)`);
      if (usedDrives.has(d.drive)) throw new CliError(`-device virtio-blk-pci: drive '${d.drive}' is already in use by another device`);
      usedDrives.add(d.drive);
    } else if (d.driver === 'virtio-net-pci') {
      if (!nseen.has(d.netdev)) throw new CliError(`-device virtio-net-pci: netdev '${d.netdev}' not found`);
      if (usedNetdevs.has(d.netdev)) throw new CliError(`-device virtio-net-pci: netdev '${d.netdev}' is already in use by another device`);
      usedNetdevs.add(d.netdev);
    }
  }
  for (const d of drives) if (d.interface === 'virtio') devices.push({ driver: 'virtio-blk-pci', drive: d.id });
}

/** -audiodev wav,id=ID,path=FILE[,out.frequency=HZ] | none,id=ID */
function parseAudiodev(v: string, opt: string): AudiodevConfig {
  const kv = parseKeyValues(v, opt, 'driver');
  const driver = kv.get('driver');
  if (driver === undefined) throw new CliError(`${opt}: no driver given (wav or none)`);
  if (driver !== 'wav' && driver !== 'none') throw new CliError(`${opt}: unsupported audio driver '${driver}' (wav or none)`);
  for (const k of kv.keys()) {
    if (k === 'driver' || k === 'id' || k === 'out.frequency' || (driver === 'wav' && k === 'path')) continue;
    throw new CliError(`${opt}: ${driver} has no property '${k}'`);
  }
  const id = kv.get('id');
  if (id === undefined || id === '') throw new CliError(`${opt}: id= is required`);
  const a: AudiodevConfig = { driver, id };
  if (driver === 'wav') {
    const path = kv.get('path');
    if (path === undefined || path === '') throw new CliError(`${opt}: wav needs path=FILE`);
    if (!existsSync(dirname(path) || '.')) throw new CliError(`${opt}: could not open '${path}': No such file or directory`);
    a.path = path;
  }
  if (kv.has('out.frequency')) {
    const f = parseNumber(kv.get('out.frequency')!, opt, 'out.frequency');
    if (f < 8000 || f > 192000) throw new CliError(`${opt}: out.frequency ${f} is out of range (8000-192000)`);
    a.frequency = f;
  }
  return a;
}
