/** The split virtqueue parser: good chains, indirect tables, event index, and every malformed chain. */
import { describe, expect, it } from 'vitest';
import { GuestMemory, Virtqueue, VirtqueueError, vringNeedEvent } from '@kvmts/qemu-lite';

const RAM = 0x10000;
const DESC = 0x1000;
const AVAIL = 0x2000;
const USED = 0x3000;
const SIZE = 8;

function setup(opts: { indirect?: boolean; eventIdx?: boolean } = {}) {
  const bytes = new Uint8Array(RAM);
  const mem = new GuestMemory([{ guestPhysAddr: 0, bytes }]);
  const dv = new DataView(bytes.buffer);
  const q = new Virtqueue(0, SIZE, mem);
  q.descAddr = DESC;
  q.driverAddr = AVAIL;
  q.deviceAddr = USED;
  q.indirect = opts.indirect ?? false;
  q.eventIdx = opts.eventIdx ?? false;
  q.validate();
  q.ready = true;
  const desc = (table: number, i: number, addr: number, len: number, flags: number, next = 0) => {
    const o = table + 16 * i;
    dv.setUint32(o, addr % 2 ** 32, true);
    dv.setUint32(o + 4, Math.floor(addr / 2 ** 32), true);
    dv.setUint32(o + 8, len, true);
    dv.setUint16(o + 12, flags, true);
    dv.setUint16(o + 14, next, true);
  };
  const offer = (head: number) => {
    const idx = dv.getUint16(AVAIL + 2, true);
    dv.setUint16(AVAIL + 4 + 2 * (idx % SIZE), head, true);
    dv.setUint16(AVAIL + 2, (idx + 1) & 0xffff, true);
  };
  return { bytes, dv, q, desc, offer };
}

const NEXT = 1;
const WRITE = 2;
const INDIRECT = 4;

describe('Virtqueue.pop: well-formed chains', () => {
  it('a readable then a writable descriptor become views of guest memory; push fills the used ring', () => {
    const { bytes, dv, q, desc, offer } = setup();
    bytes.set([1, 2, 3, 4], 0x4000);
    desc(DESC, 3, 0x4000, 4, NEXT, 5);
    desc(DESC, 5, 0x5000, 16, WRITE);
    offer(3);
    const c = q.pop()!;
    expect(c.head).toBe(3);
    expect(c.readLen).toBe(4);
    expect(c.writeLen).toBe(16);
    expect([...c.readable[0]!]).toEqual([1, 2, 3, 4]);
    c.copyTo(0, Uint8Array.of(9, 8));
    expect([...bytes.subarray(0x5000, 0x5002)]).toEqual([9, 8]);
    expect(q.pop()).toBeNull();
    q.push(3, 2);
    expect(dv.getUint16(USED + 2, true)).toBe(1);
    expect(dv.getUint32(USED + 4, true)).toBe(3);
    expect(dv.getUint32(USED + 8, true)).toBe(2);
  });

  it('follows an indirect table when VIRTIO_RING_F_INDIRECT_DESC was negotiated', () => {
    const { q, desc, offer } = setup({ indirect: true });
    desc(0x6000, 0, 0x4000, 16, NEXT, 1);
    desc(0x6000, 1, 0x4100, 512, NEXT | WRITE, 2);
    desc(0x6000, 2, 0x4400, 1, WRITE);
    desc(DESC, 0, 0x6000, 48, INDIRECT);
    offer(0);
    const c = q.pop()!;
    expect(c.readLen).toBe(16);
    expect(c.writeLen).toBe(513);
    expect(c.writable.length).toBe(2);
  });

  it('segments spanning descriptors copy across the boundary', () => {
    const { bytes, q, desc, offer } = setup();
    bytes.set([1, 2], 0x4000);
    bytes.set([3, 4, 5], 0x4800);
    desc(DESC, 0, 0x4000, 2, NEXT, 1);
    desc(DESC, 1, 0x4800, 3, 0);
    offer(0);
    const c = q.pop()!;
    const out = new Uint8Array(4);
    expect(c.copyFrom(1, out)).toBe(4);
    expect([...out]).toEqual([2, 3, 4, 5]);
    expect(c.readableFrom(1).map((s) => s.length)).toEqual([1, 3]);
  });
});

describe('Virtqueue.pop: malformed chains throw VirtqueueError and touch nothing outside RAM', () => {
  const cases: [string, (s: ReturnType<typeof setup>) => void, RegExp][] = [
    ['a loop (descriptor pointing back at itself)', ({ desc, offer }) => { desc(DESC, 0, 0x4000, 4, NEXT, 1); desc(DESC, 1, 0x4000, 4, NEXT, 0); offer(0); }, /loops/],
    ['a next index past the table', ({ desc, offer }) => { desc(DESC, 0, 0x4000, 4, NEXT, SIZE); offer(0); }, /past the table/],
    ['a head index past the table', ({ offer }) => offer(SIZE + 3), /head descriptor .* past the table/],
    ['a buffer outside guest RAM', ({ desc, offer }) => { desc(DESC, 0, RAM - 2, 4, 0); offer(0); }, /outside guest RAM/],
    ['a 64-bit buffer address far above RAM', ({ desc, offer }) => { desc(DESC, 0, 2 ** 40, 4, 0); offer(0); }, /outside guest RAM/],
    ['a huge length', ({ desc, offer }) => { desc(DESC, 0, 0x4000, 0xffffffff, 0); offer(0); }, /outside guest RAM/],
    ['a readable descriptor after a writable one', ({ desc, offer }) => { desc(DESC, 0, 0x4000, 4, NEXT | WRITE, 1); desc(DESC, 1, 0x4100, 4, 0); offer(0); }, /readable descriptor after a writable/],
    ['the avail index running more than a ring ahead', ({ dv }) => dv.setUint16(AVAIL + 2, SIZE + 1, true), /moved more than/],
  ];
  for (const [what, arrange, msg] of cases) {
    it(what, () => {
      const s = setup();
      arrange(s);
      expect(() => s.q.pop()).toThrow(VirtqueueError);
      expect(() => s.q.pop()).toThrow(msg);
    });
  }

  const indirectCases: [string, (s: ReturnType<typeof setup>) => void, RegExp][] = [
    ['an indirect table length that is not a multiple of 16', ({ desc, offer }) => { desc(DESC, 0, 0x6000, 24, INDIRECT); offer(0); }, /not a multiple of 16/],
    ['an empty indirect table', ({ desc, offer }) => { desc(DESC, 0, 0x6000, 0, INDIRECT); offer(0); }, /not a multiple of 16/],
    ['a nested indirect descriptor', ({ desc, offer }) => { desc(0x6000, 0, 0x7000, 16, INDIRECT); desc(DESC, 0, 0x6000, 16, INDIRECT); offer(0); }, /nested indirect/],
    ['INDIRECT together with NEXT', ({ desc, offer }) => { desc(DESC, 0, 0x6000, 16, INDIRECT | NEXT, 1); offer(0); }, /NEXT set/],
    ['a loop inside an indirect table', ({ desc, offer }) => { desc(0x6000, 0, 0x4000, 4, NEXT, 1); desc(0x6000, 1, 0x4000, 4, NEXT, 0); desc(DESC, 0, 0x6000, 32, INDIRECT); offer(0); }, /loops/],
    ['an indirect table outside guest RAM', ({ desc, offer }) => { desc(DESC, 0, RAM - 16, 64, INDIRECT); offer(0); }, /indirect table .* outside guest RAM/],
    ['an indirect next index past its table', ({ desc, offer }) => { desc(0x6000, 0, 0x4000, 4, NEXT, 2); desc(DESC, 0, 0x6000, 32, INDIRECT); offer(0); }, /past the table \(size 2\)/],
  ];
  for (const [what, arrange, msg] of indirectCases) {
    it(what, () => {
      const s = setup({ indirect: true });
      arrange(s);
      expect(() => s.q.pop()).toThrow(msg);
    });
  }

  it('an indirect descriptor without the feature negotiated', () => {
    const s = setup({ indirect: false });
    s.desc(DESC, 0, 0x6000, 16, INDIRECT);
    s.offer(0);
    expect(() => s.q.pop()).toThrow(/without VIRTIO_RING_F_INDIRECT_DESC/);
  });

  it('rings that do not fit in RAM or are misaligned fail validate()', () => {
    const mem = new GuestMemory([{ guestPhysAddr: 0, bytes: new Uint8Array(RAM) }]);
    const q = new Virtqueue(0, SIZE, mem);
    q.descAddr = RAM - 64;
    q.driverAddr = AVAIL;
    q.deviceAddr = USED;
    expect(() => q.validate()).toThrow(/descriptor table .* outside guest RAM/);
    q.descAddr = DESC + 8;
    expect(() => q.validate()).toThrow(/misaligned/);
    q.descAddr = DESC;
    q.size = 6;
    expect(() => q.validate()).toThrow(/power of two/);
  });
});

describe('notification suppression', () => {
  it('without EVENT_IDX: VIRTQ_AVAIL_F_NO_INTERRUPT suppresses the interrupt', () => {
    const { dv, q } = setup();
    expect(q.needsInterrupt()).toBe(true);
    dv.setUint16(AVAIL, 1, true);
    expect(q.needsInterrupt()).toBe(false);
  });

  it('with EVENT_IDX: interrupts only when used idx passes used_event; avail_event tracks the consumer', () => {
    const { dv, q, desc, offer } = setup({ eventIdx: true });
    for (let i = 0; i < 3; i++) {
      desc(DESC, i, 0x4000, 4, 0);
      offer(i);
    }
    q.pop();
    q.pop();
    // avail_event sits after the used ring: the next avail index the device will look at.
    expect(dv.getUint16(USED + 4 + 8 * SIZE, true)).toBe(2);
    dv.setUint16(AVAIL + 4 + 2 * SIZE, 1, true); // used_event: interrupt me once used idx passes 1
    q.push(0, 0);
    expect(q.needsInterrupt()).toBe(true); // first one is always signalled
    q.push(1, 0);
    expect(q.needsInterrupt()).toBe(true); // 1 -> 2 crosses used_event 1
    q.pop();
    q.push(2, 0);
    expect(q.needsInterrupt()).toBe(false); // 2 -> 3 does not cross 1
    expect(vringNeedEvent(0xffff, 0, 0xfffe)).toBe(true);
    expect(vringNeedEvent(5, 3, 2)).toBe(false);
  });
});
