/**
 * QEMU's command-line syntax for qemu-lite's subset: options with one or two leading
 * dashes, "-opt value" or "--opt=value", QemuOpts-style "key=value,key=value" arguments.
 * Produces a MachineConfig (validated) or a one-line error naming the option.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ACCEL_NAMES, ConfigError, LOG_ITEMS, MACHINE_TYPES, parseMachineConfig, type AccelName, type AudiodevConfig, type DeviceConfig, type DisplayConfig, type LogItem, type MachineConfigInput, type SerialBackend } from './config';
import { parseCpuSpec } from './cpu-model';
import { parseMemSize } from './machine/pc-layout';

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
};

export const HELP_TEXT = `usage: qemu-lite [options]
  -kernel FILE          multiboot, Linux bzImage or ELF kernel (none: the built-in demo guest)
  -initrd "FILE [ARGS],..."  multiboot modules
  -append STRING        kernel command line
  -m SIZE               RAM size (MiB, or with a K/M/G suffix; default 128M)
  -smp N                number of vCPUs
  -accel kvm-intel|kvm-amd|kvm-s390   vendor module (default: the host CPU's)
  -machine/-M pc|microvm|s390-ccw-virtio[,accel=NAME][,acpi=on|off]
  -cpu MODEL[,+feat,-feat,feat=on|off,vendor=STR]   qemu64, kvm64, qemu32, max, host
  -serial stdio|file:PATH|none   next serial port's backend
  -display none|png:PATH (PNG of the screen at exit and on SIGUSR1), -vga std|none
  -monitor stdio|none|unix:PATH,server=on,wait=off (commands while the guest runs, e.g. screendump FILE)
  -nographic, -nodefaults, -no-reboot
  -audiodev wav,id=ID,path=FILE[,out.frequency=HZ] | none,id=ID
  -device isa-debug-exit[,iobase=N,iosize=N] | pc-testdev | pci-testdev | VGA | AC97[,audiodev=ID]
          | loader,file=F,addr=A[,cpu-num=N,mode=real|protected|long]
  -global DRIVER.PROP=VALUE
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
      case 'global': {
        const m = /^([a-z0-9-]+)\.([a-z0-9-]+)=(.*)$/i.exec(v);
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
      case 'D':
        if (!existsSync(dirname(v) || '.')) throw new CliError(`${opt}: could not open log file '${v}': No such file or directory`);
        cfg.logfile = v;
        break;
    }
  }

  // -global applies to the matching -device entries (and to their defaults).
  for (const g of globals) {
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
  cfg.devices = devices;
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
