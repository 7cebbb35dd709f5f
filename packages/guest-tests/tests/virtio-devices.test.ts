/**
 * The virtio device guests (guests/devices) on every VMM of the runner matrix with the
 * same -drive/-netdev/-device options: QEMU's TCG is the reference, qemu-lite runs on
 * kvm-intel and kvm-amd. virtio-blk works on a host-made image that the test inspects
 * afterwards; virtio-net runs guest pairs on one netdev (qemu-lite with qemu-lite, and
 * qemu-lite with QEMU, over the socket stream and dgram protocols).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QemuLiteRunner, QemuRunner, runOptionsFor, type GuestRunner, type RunResult } from '../src/runner';
import { build, deviceGuests, matrix } from './helpers';

const blk = deviceGuests.find((g) => g.name === 'virtio-blk')!;
const net = deviceGuests.find((g) => g.name === 'virtio-net')!;
const SECTOR = 512;
const IMAGE_SECTORS = 128;
const qemuOn = matrix.some((m) => m.runner.name === 'qemu-tcg' && m.enabled);
const liteOn = matrix.some((m) => m.runner.name.startsWith('qemu-lite') && m.enabled);

/** Sector 0: a signature and a pattern the guest checks; every other byte 0x11. */
function makeImage(dir: string): string {
  const img = new Uint8Array(IMAGE_SECTORS * SECTOR).fill(0x11);
  img.fill(0, 0, SECTOR);
  img.set(new TextEncoder().encode('KVMTS virtio-blk'), 0);
  for (let i = 32; i < SECTOR; i++) img[i] = (i * 7) & 0xff;
  const path = join(dir, 'disk.raw');
  writeFileSync(path, img);
  return path;
}

function sector(bytes: Uint8Array, n: number): Uint8Array {
  return bytes.subarray(n * SECTOR, (n + 1) * SECTOR);
}

/** What the guest writes to sector 1. */
function expectedSector1(): Uint8Array {
  const s = new Uint8Array(SECTOR);
  for (let i = 0; i < SECTOR; i++) s[i] = (0xa5 ^ i) & 0xff;
  s.set(new TextEncoder().encode('written by guest'), 0);
  return s;
}

async function runBlk(runner: GuestRunner, readonly: boolean, smp = 1): Promise<{ r: RunResult; before: Uint8Array; after: Uint8Array }> {
  const dir = mkdtempSync(join(tmpdir(), 'virtio-blk-'));
  const path = makeImage(dir);
  const before = new Uint8Array(readFileSync(path));
  const o = runOptionsFor(blk, build(blk).elf);
  o.smp = smp;
  o.extraArgs = [
    '-drive', `file=${path},format=raw,if=none,id=d0${readonly ? ',readonly=on' : ',discard=unmap'}`,
    '-device', 'virtio-blk-pci,drive=d0,serial=KVMTS-SERIAL-01,disable-legacy=on',
  ];
  const r = await runner.run(o);
  return { r, before, after: new Uint8Array(readFileSync(path)) };
}

const blkRuns = new Map<string, string>();

for (const { runner, enabled } of matrix) {
  describe.skipIf(!enabled)(`virtio-blk guest on ${runner.name}`, () => {
    it('reads sector 0, writes sector 1 (indirect), flushes, discards, GET_ID; MSI-X and INTx completions; the image holds the bytes', { timeout: 120_000 }, async () => {
      const { r, before, after } = await runBlk(runner, false);
      const ctx = `${runner.name}:\n${r.serial}\n${r.stderr}`;
      expect(r.timedOut, ctx).toBe(false);
      expect(r.serial, ctx).not.toMatch(/^FAIL/m);
      expect(r.status, ctx).toBe(1);
      for (const l of [...blk.expect, 'read-only: no', 'capacity: 128 sectors', 'sector 0 says: KVMTS virtio-blk', 'serial: KVMTS-SERIAL-01',
        'PASS: write sector 1 through an indirect table', 'PASS: discard sector 3', 'PASS: read sector 1 with an INTx completion'])
        expect(r.serial, ctx).toContain(l);
      expect(sector(after, 0)).toEqual(sector(before, 0));
      expect(sector(after, 1)).toEqual(expectedSector1());
      expect(sector(after, 2)).toEqual(sector(before, 2));
      expect(sector(after, 3)).toEqual(new Uint8Array(SECTOR)); // discarded: reads as zeroes
      expect(sector(after, 4)).toEqual(sector(before, 4));
      blkRuns.set(`${runner.name} rw`, r.serial);
    });

    it('readonly=on: VIRTIO_BLK_F_RO, the write fails with IOERR, the image is untouched', { timeout: 120_000 }, async () => {
      const { r, before, after } = await runBlk(runner, true);
      const ctx = `${runner.name}:\n${r.serial}\n${r.stderr}`;
      expect(r.serial, ctx).not.toMatch(/^FAIL/m);
      expect(r.status, ctx).toBe(1);
      expect(r.serial, ctx).toContain('read-only: yes');
      expect(r.serial, ctx).toContain('PASS: read-only drive: write refused with IOERR (status 1)');
      expect(after).toEqual(before);
      blkRuns.set(`${runner.name} ro`, r.serial);
    });

    it('on a qcow2 image made by qemu-img: same results, qemu-img check stays clean', { timeout: 120_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'virtio-qcow2-'));
      const raw = makeImage(dir);
      const before = new Uint8Array(readFileSync(raw));
      const img = join(dir, 'disk.qcow2');
      execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, img]);
      const o = runOptionsFor(blk, build(blk).elf);
      o.extraArgs = ['-drive', `file=${img},format=qcow2,if=none,id=d0,discard=unmap`, '-device', 'virtio-blk-pci,drive=d0,serial=KVMTS-SERIAL-01,disable-legacy=on'];
      const r = await runner.run(o);
      const ctx = `${runner.name}:\n${r.serial}\n${r.stderr}`;
      expect(r.serial, ctx).not.toMatch(/^FAIL/m);
      expect(r.status, ctx).toBe(1);
      expect(r.serial, ctx).toContain('sector 0 says: KVMTS virtio-blk');
      execFileSync('qemu-img', ['check', '-q', img]);
      const out = join(dir, 'back.raw');
      execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', img, out]);
      const after = new Uint8Array(readFileSync(out));
      expect(sector(after, 0)).toEqual(sector(before, 0));
      expect(sector(after, 1)).toEqual(expectedSector1());
      expect(sector(after, 2)).toEqual(sector(before, 2));
      // Discard is advisory: QEMU's qcow2 ignores a discard smaller than a cluster; ours zeroes it.
      if (runner.name !== 'qemu-tcg') expect(sector(after, 3)).toEqual(new Uint8Array(SECTOR));
    });

    it('with -smp 2 (the completion MSI goes to the BSP while the AP is parked)', { timeout: 120_000 }, async () => {
      const { r, after } = await runBlk(runner, false, 2);
      const ctx = `${runner.name}:\n${r.serial}\n${r.stderr}`;
      expect(r.serial, ctx).not.toMatch(/^FAIL/m);
      expect(r.status, ctx).toBe(1);
      expect(r.serial, ctx).toContain('SUMMARY: 19 tests, 0 failures');
      expect(sector(after, 1)).toEqual(expectedSector1());
    });
  });
}

describe.skipIf(!qemuOn || !liteOn)('virtio-blk guest: qemu-lite prints exactly what QEMU prints', () => {
  it('same serial output on every VMM, read-write and read-only', () => {
    for (const mode of ['rw', 'ro']) {
      const ref = blkRuns.get(`qemu-tcg ${mode}`);
      for (const [k, v] of blkRuns) if (k.endsWith(mode) && ref !== undefined) expect(v, k).toBe(ref);
    }
  });
});

/** A free TCP/UDP port on 127.0.0.1 (bound and released). */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Waits until something listens on 127.0.0.1:port (read from /proc/net/tcp, so no probe connection is made). */
async function waitListening(port: number, ms = 20_000): Promise<void> {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const lines = readFileSync('/proc/net/tcp', 'utf8').split('\n');
    if (lines.some((l) => l.includes(hex) && / 0A /.test(l))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

function netArgs(netdev: string, mac: string): string[] {
  return ['-netdev', netdev, '-device', `virtio-net-pci,netdev=n0,mac=${mac},disable-legacy=on`];
}

const REQUESTER = '52:54:00:12:34:01';
const RESPONDER = '52:54:00:12:34:02';

async function runPair(a: GuestRunner, aNet: string, b: GuestRunner, bNet: string, listenPort?: number): Promise<[RunResult, RunResult]> {
  const elf = build(net).elf;
  const ob = runOptionsFor(net, elf);
  ob.extraArgs = netArgs(bNet, RESPONDER);
  const pb = b.run(ob);
  if (listenPort !== undefined) await waitListening(listenPort);
  const oa = runOptionsFor(net, elf);
  oa.extraArgs = netArgs(aNet, REQUESTER);
  const pa = a.run(oa);
  return Promise.all([pa, pb]);
}

function checkPair(ra: RunResult, rb: RunResult, what: string): void {
  const ctx = `${what}\nrequester:\n${ra.serial}\n${ra.stderr}\nresponder:\n${rb.serial}\n${rb.stderr}`;
  for (const r of [ra, rb]) {
    expect(r.timedOut, ctx).toBe(false);
    expect(r.serial, ctx).not.toMatch(/^FAIL/m);
    expect(r.status, ctx).toBe(1);
  }
  expect(ra.serial, ctx).toContain(`requester, MAC ${REQUESTER}`);
  expect(ra.serial, ctx).toContain(`ARP reply: 10.0.0.2 is at ${RESPONDER}`);
  expect(rb.serial, ctx).toContain(`responder, MAC ${RESPONDER}`);
  expect(rb.serial, ctx).toContain('ARP request: who has 10.0.0.2? tell 10.0.0.1');
  expect(rb.serial, ctx).toContain(`  from ${REQUESTER}`);
  expect(rb.serial, ctx).toContain('PASS: done frame received');
}

describe.skipIf(!liteOn)('virtio-net guest pair: qemu-lite (kvm-intel) and qemu-lite (kvm-amd)', () => {
  it('-netdev socket listen/connect on 127.0.0.1: ARP request and reply', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const [ra, rb] = await runPair(new QemuLiteRunner('amd'), `socket,id=n0,connect=127.0.0.1:${port}`,
      new QemuLiteRunner('intel'), `socket,id=n0,listen=127.0.0.1:${port}`, port);
    checkPair(ra, rb, 'socket');
  });

  it('-netdev dgram between two local UDP ports', { timeout: 120_000 }, async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const [ra, rb] = await runPair(
      new QemuLiteRunner('intel'), `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${pa},remote.type=inet,remote.host=127.0.0.1,remote.port=${pb}`,
      new QemuLiteRunner('amd'), `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${pb},remote.type=inet,remote.host=127.0.0.1,remote.port=${pa}`);
    checkPair(ra, rb, 'dgram');
  });
});

describe.skipIf(!liteOn || !qemuOn)('virtio-net guest pair: qemu-lite with QEMU (TCG), the same netdev protocols', () => {
  it('QEMU listens, qemu-lite connects (socket stream)', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const [ra, rb] = await runPair(new QemuLiteRunner('intel'), `socket,id=n0,connect=127.0.0.1:${port}`,
      new QemuRunner(), `socket,id=n0,listen=127.0.0.1:${port}`, port);
    checkPair(ra, rb, 'qemu listen');
  });

  it('qemu-lite listens, QEMU connects (socket stream)', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const [ra, rb] = await runPair(new QemuRunner(), `socket,id=n0,connect=127.0.0.1:${port}`,
      new QemuLiteRunner('amd'), `socket,id=n0,listen=127.0.0.1:${port}`, port);
    checkPair(ra, rb, 'qemu-lite listen');
  });

  it('dgram: QEMU and qemu-lite exchange UDP datagrams', { timeout: 120_000 }, async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const [ra, rb] = await runPair(
      new QemuRunner(), `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${pa},remote.type=inet,remote.host=127.0.0.1,remote.port=${pb}`,
      new QemuLiteRunner('intel'), `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${pb},remote.type=inet,remote.host=127.0.0.1,remote.port=${pa}`);
    checkPair(ra, rb, 'dgram');
  });
});
