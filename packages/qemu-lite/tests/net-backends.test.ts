/**
 * The netdev backends against plain sockets speaking QEMU's formats: the stream format
 * (4-byte big-endian length, then the frame) in both directions, frames split and merged
 * across TCP segments, a corrupt length; and dgram (one datagram per frame). Then the
 * virtio-net device model on a callback backend: transmit strips the 12-byte header,
 * receive prepends it, flow control pauses the backend, a too-small buffer is not written.
 */
import { createSocket } from 'node:dgram';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DgramNetBackend, SocketNetBackend } from '@kvmts/qemu-lite';

function frame(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

function lenPrefixed(f: Uint8Array): Buffer {
  const b = Buffer.alloc(4 + f.length);
  b.writeUInt32BE(f.length, 0);
  b.set(f, 4);
  return b;
}

async function freePort(): Promise<number> {
  return new Promise((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => r(p));
    });
  });
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('-netdev socket (stream)', () => {
  it('listen: frames from a peer are de-framed across segment boundaries; sent frames carry the BE length', async () => {
    const port = await freePort();
    const errors: string[] = [];
    const b = SocketNetBackend.listen('n0', '127.0.0.1', port, (m) => errors.push(m));
    await b.listening();
    const got: Uint8Array[] = [];
    b.receive = (f) => got.push(f);
    const peer = new Socket();
    const fromBackend: Buffer[] = [];
    peer.on('data', (d: Buffer) => fromBackend.push(d));
    await new Promise<void>((r) => peer.connect(port, '127.0.0.1', () => r()));
    const a = lenPrefixed(frame(60, 1));
    const c = lenPrefixed(frame(1514, 2));
    const d = lenPrefixed(frame(42, 3));
    // a split in the middle of its length field, then the rest of a + all of c + d in one write
    peer.write(a.subarray(0, 2));
    await new Promise((r) => setTimeout(r, 20));
    peer.write(Buffer.concat([a.subarray(2), c, d]));
    await until(() => got.length === 3);
    expect(got.map((f) => [f.length, f[0]])).toEqual([[60, 1], [1514, 2], [42, 3]]);
    b.send(frame(64, 9));
    await until(() => Buffer.concat(fromBackend).length === 68);
    const out = Buffer.concat(fromBackend);
    expect(out.readUInt32BE(0)).toBe(64);
    expect(out[4]).toBe(9);
    expect(b.stats).toMatchObject({ rx: 3, tx: 1 });
    peer.destroy();
    b.close();
    expect(errors).toEqual([]);
  });

  it('connect: talks to a QEMU-style listener; a length beyond 68 KiB drops the connection', async () => {
    const server = createServer();
    const conns: Socket[] = [];
    server.on('connection', (s) => conns.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const b = SocketNetBackend.connect('n1', '127.0.0.1', port, () => {});
    const got: Uint8Array[] = [];
    b.receive = (f) => got.push(f);
    await until(() => conns.length === 1);
    const s = conns[0]!;
    s.write(lenPrefixed(frame(100, 7)));
    await until(() => got.length === 1);
    let closed = false;
    s.on('close', () => (closed = true));
    const bad = Buffer.alloc(4);
    bad.writeUInt32BE(0x7fffffff, 0);
    s.write(bad);
    await until(() => closed);
    expect(b.stats.dropped).toBe(1);
    b.close();
    server.close();
  });

  it('a peer that stops reading: sendBlocked until drain; close() still delivers every frame sent (bench regression)', async () => {
    // The bench's receiver guest pauses its socket while its ring is full; the sender
    // exited right after its last frames, and destroy() threw away what the kernel had
    // not taken yet: the receiver never saw the final "done" frames.
    const server = createServer();
    const conns: Socket[] = [];
    server.on('connection', (s) => {
      s.pause();
      conns.push(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const b = SocketNetBackend.connect('n3', '127.0.0.1', port, () => {});
    await until(() => conns.length === 1 && b.stats.dropped === 0);
    await new Promise((r) => setTimeout(r, 20));
    const peer = conns[0]!;
    const chunks: Buffer[] = [];
    let ended = false;
    peer.on('data', (d: Buffer) => chunks.push(d));
    peer.on('end', () => (ended = true));
    peer.pause();
    let ready = 0;
    b.onSendReady = () => ready++;
    let sent = 0;
    const fill = () => {
      while (!b.sendBlocked && sent < 100_000) b.send(frame(1514, sent++ & 0xff));
      expect(b.sendBlocked, `still not blocked after ${sent} frames`).toBe(true);
    };
    fill();
    peer.resume();
    await until(() => ready === 1);
    expect(b.sendBlocked).toBe(false);
    peer.pause();
    fill();
    b.send(frame(60, 0xee)); // the last frame, sent while blocked, then the VMM ends
    sent++;
    b.close();
    peer.resume();
    await until(() => ended);
    const all = Buffer.concat(chunks);
    let n = 0;
    let off = 0;
    let lastLen = 0;
    let lastFill = 0;
    while (off + 4 <= all.length) {
      lastLen = all.readUInt32BE(off);
      lastFill = all[off + 4]!;
      off += 4 + lastLen;
      n++;
    }
    expect(off).toBe(all.length);
    expect(n).toBe(sent);
    expect([lastLen, lastFill]).toEqual([60, 0xee]);
    server.close();
  });

  it('connect to a port nobody listens on reports one error naming the netdev', async () => {
    const port = await freePort();
    const errors: string[] = [];
    const b = SocketNetBackend.connect('n2', '127.0.0.1', port, (m) => errors.push(m));
    await until(() => errors.length === 1);
    expect(errors[0]).toMatch(/^-netdev socket,id=n2: connect 127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    b.close();
  });
});

describe('-netdev dgram', () => {
  it('one UDP datagram per frame, both ways', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(pb, '127.0.0.1', () => r()));
    const fromBackend: Buffer[] = [];
    peer.on('message', (m) => fromBackend.push(m));
    const b = new DgramNetBackend('d0', { host: '127.0.0.1', port: pa }, { host: '127.0.0.1', port: pb }, () => {});
    const got: Uint8Array[] = [];
    b.receive = (f) => got.push(f);
    b.send(frame(60, 5));
    await until(() => fromBackend.length === 1);
    expect(fromBackend[0]!.length).toBe(60);
    peer.send(Buffer.from(frame(1514, 6)), pa, '127.0.0.1');
    await until(() => got.length === 1);
    expect([got[0]!.length, got[0]![0]]).toEqual([1514, 6]);
    b.close();
    peer.close();
  });

  it('frames sent just before close() still leave (a guest\'s last frames before it powers off)', async () => {
    const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
    const peer = createSocket('udp4');
    await new Promise<void>((r) => peer.bind(pb, '127.0.0.1', () => r()));
    const fromBackend: Buffer[] = [];
    peer.on('message', (m) => fromBackend.push(m));
    // Bound: the frames and close() in one tick, as when the guest's last OUT ends the VMM.
    const b = new DgramNetBackend('d0', { host: '127.0.0.1', port: pa }, { host: '127.0.0.1', port: pb }, () => {});
    b.send(frame(60, 1));
    await until(() => fromBackend.length === 1);
    for (let i = 0; i < 3; i++) b.send(frame(60, 7 + i));
    b.close();
    b.send(frame(60, 99)); // after close: not sent
    await until(() => fromBackend.length === 4);
    // Not bound yet: the queued frames go out once the bind completes, then the socket closes.
    const c = new DgramNetBackend('d1', { host: '127.0.0.1', port: pc }, { host: '127.0.0.1', port: pb }, () => {});
    c.send(frame(60, 20));
    c.close();
    await until(() => fromBackend.length === 5);
    await new Promise((r) => setTimeout(r, 50));
    expect(fromBackend.map((m) => m[0])).toEqual([1, 7, 8, 9, 20]);
    expect([b.stats.tx, c.stats.tx]).toEqual([4, 1]);
    expect(b.stats.dropped).toBe(1);
    peer.close();
  });
});

describe('virtio-net device model (callback netdev, driven through the transport)', async () => {
  const { buildPc } = await import('./helpers/pc');
  function machine() {
    const sent: Uint8Array[] = [];
    let deliver: (f: Uint8Array) => void = () => {};
    const t = buildPc({
      netdevs: [{ type: 'callback', id: 'n0', send: (f: Uint8Array) => sent.push(f), attach: (r: (f: Uint8Array) => void) => (deliver = r) }],
    }, [{ driver: 'virtio-net-pci', netdev: 'n0', mac: '52:54:00:aa:bb:01' }]);
    const dev = t.m.virtio[0]!;
    const mem = t.m.mem;
    const bar = dev.regionAddress(4);
    const w = (o: number, v: number, s: number) => {
      const d = new Uint8Array(s);
      for (let i = 0; i < s; i++) d[i] = (v >>> (8 * i)) & 0xff;
      t.m.mmio.write(bar + o, d);
    };
    const r = (o: number, s: number) => {
      const d = new Uint8Array(s);
      t.m.mmio.read(bar + o, d);
      return d.reduceRight((v, b) => (v * 256 + b) >>> 0, 0);
    };
    // VERSION_1 + MAC; rx queue 0 at 0x10000/0x11000/0x12000, tx queue 1 at 0x20000/0x21000/0x22000, 4 entries.
    w(0x14, 3, 1);
    w(0x08, 0, 4); w(0x0c, 1 << 5, 4); w(0x08, 1, 4); w(0x0c, 1, 4);
    w(0x14, 11, 1);
    for (const [q, base] of [[0, 0x10000], [1, 0x20000]] as const) {
      w(0x16, q, 2); w(0x18, 4, 2); w(0x20, base, 4); w(0x28, base + 0x1000, 4); w(0x30, base + 0x2000, 4); w(0x1c, 1, 2);
    }
    w(0x14, 15, 1);
    const desc = (table: number, i: number, addr: number, len: number, flags: number) => {
      mem.writeU32(table + 16 * i, addr); mem.writeU32(table + 16 * i + 4, 0); mem.writeU32(table + 16 * i + 8, len);
      mem.writeU16(table + 16 * i + 12, flags); mem.writeU16(table + 16 * i + 14, 0);
    };
    const offer = (base: number, head: number) => {
      const idx = mem.readU16(base + 0x1002);
      mem.writeU16(base + 0x1004 + 2 * (idx % 4), head);
      mem.writeU16(base + 0x1002, idx + 1);
    };
    return { t, dev, mem, w, r, sent, deliver: (f: Uint8Array) => deliver(f), desc, offer };
  }

  it('config space has the MAC and LINK_UP; transmit strips the 12-byte virtio_net_hdr', () => {
    const n = machine();
    expect([0, 1, 2, 3, 4, 5].map((i) => n.r(0x2000 + i, 1))).toEqual([0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01]);
    expect(n.r(0x2006, 2)).toBe(1);
    n.mem.fill(0x30000, 12, 0);
    n.mem.write(0x3000c, Uint8Array.from({ length: 60 }, (_, i) => i));
    n.desc(0x20000, 0, 0x30000, 72, 0);
    n.offer(0x20000, 0);
    n.w(0x3004, 1, 2); // notify queue 1
    expect(n.sent.length).toBe(1);
    expect([...n.sent[0]!.subarray(0, 4)]).toEqual([0, 1, 2, 3]);
    expect(n.sent[0]!.length).toBe(60);
    expect(n.mem.readU16(0x22002)).toBe(1);
  });

  it('transmit stops while the backend is sendBlocked and resumes on onSendReady', () => {
    const n = machine();
    const backend = n.t.m.netdevs.get('n0')!;
    const flow = backend as { sendBlocked?: boolean; onSendReady?: () => void };
    expect(typeof flow.onSendReady).toBe('function');
    for (let i = 0; i < 2; i++) {
      n.mem.fill(0x30000 + 0x100 * i, 12, 0);
      n.mem.fill(0x3000c + 0x100 * i, 60, 0x40 + i);
      n.desc(0x20000, i, 0x30000 + 0x100 * i, 72, 0);
      n.offer(0x20000, i);
    }
    flow.sendBlocked = true;
    n.w(0x3004, 1, 2); // notify queue 1: nothing may leave
    expect(n.sent.length).toBe(0);
    expect(n.mem.readU16(0x22002)).toBe(0);
    flow.sendBlocked = false;
    flow.onSendReady!();
    expect(n.sent.map((f) => f[0])).toEqual([0x40, 0x41]);
    expect(n.mem.readU16(0x22002)).toBe(2);
  });

  it('receive writes header + frame into a posted buffer, waits for buffers, skips one that is too small', () => {
    const n = machine();
    n.deliver(Uint8Array.from({ length: 100 }, (_, i) => 255 - i)); // no buffer yet: held
    expect(n.mem.readU16(0x12002)).toBe(0);
    n.desc(0x10000, 0, 0x40000, 50, 2); // too small for 12 + 100
    n.desc(0x10000, 1, 0x41000, 1526, 2);
    n.offer(0x10000, 0);
    n.offer(0x10000, 1);
    n.w(0x3000, 0, 2); // notify rx
    // The 100-byte frame does not fit the head buffer: it is dropped and the buffer stays posted;
    // the next (30-byte) frame fits it.
    n.deliver(Uint8Array.from({ length: 30 }, () => 7));
    const used = n.mem.readU16(0x12002);
    expect(used).toBe(1);
    const id = n.mem.readU32(0x12004);
    const len = n.mem.readU32(0x12008);
    expect([id, len]).toEqual([0, 42]);
    expect(n.mem.readU16(0x40000 + 10)).toBe(1); // num_buffers
    expect(n.mem.readU8(0x40000 + 12)).toBe(7);
    expect(n.dev.status & 0x40).toBe(0);
  });
});
