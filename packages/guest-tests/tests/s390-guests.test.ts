/**
 * s390x guests built with Debian's gcc-s390x-linux-gnu at test time, run on kvm-s390
 * through qemu-lite's s390-ccw-virtio machine (SCLP console), as kvm-unit-tests does.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kvmS390 } from '@kvmts/kvm-s390';
import { runS390Cli, runS390Machine } from '@kvmts/qemu-lite';

const GUESTS = resolve(__dirname, '../s390/guests');
const haveQemu = (() => {
  try { execFileSync('qemu-s390x-static', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
})();
const haveCc = (() => {
  try { execFileSync('s390x-linux-gnu-gcc', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
})();
const out = mkdtempSync(join(tmpdir(), 's390-guests-'));

function build(name: string, kind: 'elf' | 'linux' = 'elf', march = 'z196', opt = '-O2'): Uint8Array {
  const dir = join(out, `${march}${opt}`);
  const elf = join(dir, `${name}.${kind}`);
  if (!existsSync(elf)) execFileSync('make', ['-s', '-C', GUESTS, `OUT=${dir}`, `MARCH=${march}`, `OPT=${opt}`, elf], { stdio: 'pipe' });
  return readFileSync(elf);
}

function outDir(march: string, opt: string): string {
  return join(out, `${march}${opt}`);
}

function boot(name: string, smp = 1, march = 'z196', opt = '-O2') {
  let text = '';
  const dec = new TextDecoder();
  const r = runS390Machine({ module: kvmS390, kernel: build(name, 'elf', march, opt), smp, output: (b) => { text += dec.decode(b); } });
  return { ...r, text };
}

describe.skipIf(!haveCc)('s390x compiled guests (needs gcc-s390x-linux-gnu)', () => {
  it('runs the programs guest and prints through the SCLP console', () => {
    const r = boot('programs');
    expect(r.text).toContain('hello from s390x\n');
    expect(r.text).toContain('primes below 10000: 1229\n');
    expect(r.text).toContain('crc32: cbf43926\n');
    expect(r.text).toContain('sorted: 1 min<0: 1\n');
    expect(r.text).toContain('reversed: x093s no stmvk\n');
    expect(r.text).toContain(`div: -1234567890 ${18446744073709551615n / 7n}\n`);
    let d = 1.5;
    for (let i = 0; i < 10; i++) d = d * 1.25 + 0.5;
    expect(r.text).toContain(`fp: ${Math.trunc(d * 1000)}\n`);
    expect(r.reason).toBe('disabled-wait');
    expect(r.exitCode).toBe(0);
    expect(r.psw.addr).toBe(0xfffn);
  });
});

describe.skipIf(!haveCc)('qemu-lite command line for s390', () => {
  it('runs -M s390-ccw-virtio -accel kvm-s390 -kernel programs.elf and exits 0', () => {
    build('programs');
    let text = '';
    const status = runS390Cli(['-M', 's390-ccw-virtio', '-accel', 'kvm-s390', '-kernel', join(outDir('z196', '-O2'), 'programs.elf'), '-m', '32', '-nographic'],
      kvmS390, (b) => { text += new TextDecoder().decode(b); });
    expect(status).toBe(0);
    expect(text).toContain('primes below 10000: 1229\n');
  });

  it('the qemu-lite executable dispatches -M s390-ccw-virtio to the s390 machine', () => {
    build('programs');
    const cli = resolve(__dirname, '../../qemu-lite/src/cli.ts');
    const stdout = execFileSync(process.execPath, ['--conditions=@kvmts/source', '--import', 'tsx', cli,
      '-M', 's390-ccw-virtio', '-accel', 'kvm-s390', '-kernel', join(outDir('z196', '-O2'), 'programs.elf'), '-nographic'], { encoding: 'utf8' });
    expect(stdout).toContain('hello from s390x\n');
    expect(stdout).toContain('crc32: cbf43926\n');
    let err: { status?: number; stderr?: string } = {};
    try {
      execFileSync(process.execPath, ['--conditions=@kvmts/source', '--import', 'tsx', cli, '-M', 's390-ccw-virtio', '-accel', 'kvm-s390', '-kernel', '/nonexistent.elf'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.status).toBe(1);
    expect(err.stderr).toMatch(/nonexistent/);
  });
});

describe.skipIf(!haveCc)('s390x selftest guest (intercepts from compiled code)', () => {
  it('gets KVM\'s answers for STIDP, STAP, STFL(E), STSI, SPX/STPX, SCK, SIGP, DIAG, keys, TPROT and handles its own interruptions', () => {
    const r = boot('selftest');
    expect(r.text).toBe([
      'stidp: version=ff type=2827',
      'stap: 0',
      'stfl: f1803440', // facilities 0-3, 7, 8, 18, 19, 21, 25 in the first word
      'stfle: cc=0 n=2 fac0=f180344034440000',
      'stsi level: 3',
      'stsi 3.2.2: cc=0 name=KVMguest cpus=1',
      'stsi 1.1.1: cc=0 manufacturer=IBM',
      'stsi 2.2.2: cc=3',
      'spx/stpx: 1',
      'sck/stck: 1',
      'sigp sense self: cc=0',
      'diag 44: ok',
      'iske: 30',
      'tprot: cc=0',
      'operation: count=1 code=1',
      'divide: count=2 code=9',
      'svc: code=42',
      '',
    ].join('\n'));
    expect(r.exitCode).toBe(0);
  });
});

describe.skipIf(!haveCc)('s390x SMP guest (SIGP between two vCPUs)', () => {
  it('starts CPU 1 with SIGP SET PREFIX + RESTART and gets its emergency signal', () => {
    const r = boot('smp', 2);
    expect(r.text).toBe([
      'smp: cpu0 up',
      'sense cpu1: cc=1 status=40', // stopped
      'sense cpu7: cc=3', // not operational
      'set prefix: cc=0',
      'restart: cc=0',
      'emergency from cpu 1',
      'cpu1 done=1 sum=500500',
      'sense cpu1 again: cc=1 status=40', // it stopped itself with SIGP STOP
      '',
    ].join('\n'));
    expect(r.exitCode).toBe(0);
  });
});

describe.skipIf(!haveCc || !haveQemu)('s390x exerciser vs qemu-s390x-static (needs qemu-user-static)', () => {
  it.each([['z10', '-O2'], ['z196', '-O2'], ['zEC12', '-O2'], ['z10', '-Os'], ['zEC12', '-O3']])('prints byte for byte what the same program prints as a Linux process under qemu-s390x-static (-march=%s %s)', (march, opt) => {
    build('exerciser', 'linux', march, opt);
    const oracle = execFileSync('qemu-s390x-static', [join(outDir(march, opt), 'exerciser.linux')], { maxBuffer: 16 << 20 }).toString();
    const r = boot('exerciser', 1, march, opt);
    expect(oracle.length).toBeGreaterThan(200_000);
    expect(r.exitCode).toBe(0);
    expect(r.text.length).toBe(oracle.length);
    expect(r.text === oracle).toBe(true);
  });
});
