/**
 * The SCLP (service-call logical processor) as QEMU's hw/s390x/sclp.c and
 * event-facility.c answer it: READ SCP INFO, WRITE EVENT MASK and WRITE EVENT DATA with
 * the ASCII console (event type 0x1a) and line-mode message (0x02) events. The guest
 * issues SERVC; KVM exits with KVM_EXIT_S390_SIEIC; we process the SCCB in guest
 * storage, set the condition code and inject the service-signal interrupt.
 */
export const SCLP_CMDW_READ_SCP_INFO = 0x00020001;
export const SCLP_CMDW_READ_SCP_INFO_FORCED = 0x00120001;
export const SCLP_CMD_WRITE_EVENT_DATA = 0x00760005;
export const SCLP_CMD_READ_EVENT_DATA = 0x00770005;
export const SCLP_CMD_WRITE_EVENT_MASK = 0x00780005;

export const SCLP_RC_NORMAL_COMPLETION = 0x0010;
export const SCLP_RC_NO_EVENT_BUFFERS_STORED = 0x60f0;
export const SCLP_RC_INSUFFICIENT_SCCB_LENGTH = 0x0300;
export const SCLP_RC_INVALID_SCLP_COMMAND = 0x01f0;
export const SCLP_RC_INVALID_MASK_LENGTH = 0x74f0;

export const SCLP_EVENT_MESSAGE = 0x02;
export const SCLP_EVENT_ASCII_CONSOLE_DATA = 0x1a;
export const SCLP_EVENT_BUFFER_ACCEPTED = 0x80;

/** Event-type mask bit (type 1 is the leftmost bit of a 32-bit mask). */
export function eventMask(type: number): number {
  return (0x80000000 >>> (type - 1)) >>> 0;
}

const EBCDIC_TO_ASCII = (() => {
  const t = new Uint8Array(256).fill(0x2e);
  const put = (e: number, s: string) => { for (let i = 0; i < s.length; i++) t[e + i] = s.charCodeAt(i); };
  put(0x40, ' ');
  put(0x4b, '.<(+|&');
  put(0x5a, '!$*);^-/');
  put(0x6b, ',%_>?');
  put(0x7a, ':#@\'="');
  put(0x81, 'abcdefghi'); put(0x91, 'jklmnopqr'); put(0xa2, 'stuvwxyz');
  put(0xc1, 'ABCDEFGHI'); put(0xd1, 'JKLMNOPQR'); put(0xe2, 'STUVWXYZ');
  put(0xf0, '0123456789');
  t[0x15] = 0x0a; t[0x25] = 0x0a;
  return t;
})();

export interface SclpConfig {
  memoryBytes: number;
  cpus: number;
  output: (bytes: Uint8Array) => void;
}

export class Sclp {
  /** What the guest said it can receive / send (WRITE EVENT MASK). */
  guestReceiveMask = 0;
  guestSendMask = 0;
  /** Event types the SCLP accepts from the guest. */
  readonly sclpReceiveMask = eventMask(SCLP_EVENT_MESSAGE) | eventMask(SCLP_EVENT_ASCII_CONSOLE_DATA);
  readonly sclpSendMask = 0;

  constructor(private readonly cfg: SclpConfig) {}

  /** Process the SCCB (a copy of guest storage, changed in place); returns the cc of SERVC. */
  serviceCall(cmd: number, sccb: Uint8Array): number {
    const dv = new DataView(sccb.buffer, sccb.byteOffset, sccb.byteLength);
    const len = dv.getUint16(0);
    if (len < 8 || len > sccb.length) return 3;
    switch (cmd >>> 0) {
      case SCLP_CMDW_READ_SCP_INFO:
      case SCLP_CMDW_READ_SCP_INFO_FORCED:
        this.readScpInfo(dv, len);
        return 0;
      case SCLP_CMD_WRITE_EVENT_MASK:
        this.writeEventMask(dv, len);
        return 0;
      case SCLP_CMD_WRITE_EVENT_DATA:
        this.writeEventData(sccb, dv, len);
        return 0;
      case SCLP_CMD_READ_EVENT_DATA:
        dv.setUint16(6, SCLP_RC_NO_EVENT_BUFFERS_STORED);
        return 0;
      default:
        dv.setUint16(6, SCLP_RC_INVALID_SCLP_COMMAND);
        return 0;
    }
  }

  private readScpInfo(dv: DataView, len: number): void {
    const entries = 144;
    if (len < entries + 16 * this.cfg.cpus) { dv.setUint16(6, SCLP_RC_INSUFFICIENT_SCCB_LENGTH); return; }
    const mib = Math.floor(this.cfg.memoryBytes / (1 << 20));
    dv.setUint16(8, Math.min(mib, 0xffff)); // rnmax
    dv.setUint8(10, 1); // rnsize: 1 MiB increments
    dv.setUint16(16, this.cfg.cpus); // entries_cpu
    dv.setUint16(18, entries); // offset_cpu
    dv.setUint32(100, 1); // rnsize2
    dv.setBigUint64(104, BigInt(mib)); // rnmax2
    dv.setUint16(120, this.cfg.cpus - 1); // highest_cpu
    for (let i = 0; i < this.cfg.cpus; i++) dv.setUint8(entries + 16 * i, i); // cpu address
    dv.setUint16(6, SCLP_RC_NORMAL_COMPLETION);
  }

  private writeEventMask(dv: DataView, len: number): void {
    const ml = dv.getUint16(10);
    if (ml === 0 || ml > 4 || len < 12 + 4 * ml) { dv.setUint16(6, SCLP_RC_INVALID_MASK_LENGTH); return; }
    const get = (off: number) => { let v = 0; for (let i = 0; i < 4; i++) v = (v << 8) | (i < ml ? dv.getUint8(off + i) : 0); return v >>> 0; };
    const put = (off: number, v: number) => { for (let i = 0; i < ml; i++) dv.setUint8(off + i, (v >>> (24 - 8 * i)) & 0xff); };
    this.guestReceiveMask = get(12);
    this.guestSendMask = get(12 + ml);
    put(12 + 2 * ml, this.sclpSendMask); // what the SCLP can send to the guest
    put(12 + 3 * ml, this.sclpReceiveMask); // what the SCLP can receive
    dv.setUint16(6, SCLP_RC_NORMAL_COMPLETION);
  }

  private writeEventData(sccb: Uint8Array, dv: DataView, len: number): void {
    let off = 8;
    while (off + 6 <= len) {
      const elen = dv.getUint16(off);
      if (elen < 6 || off + elen > len) break;
      const type = dv.getUint8(off + 2);
      if ((this.guestSendMask & eventMask(type)) !== 0 || this.guestSendMask === 0) {
        if (type === SCLP_EVENT_ASCII_CONSOLE_DATA) {
          this.cfg.output(sccb.slice(off + 6, off + elen));
          dv.setUint8(off + 3, dv.getUint8(off + 3) | SCLP_EVENT_BUFFER_ACCEPTED);
        } else if (type === SCLP_EVENT_MESSAGE) {
          this.lineMode(sccb, dv, off + 6, off + elen);
          dv.setUint8(off + 3, dv.getUint8(off + 3) | SCLP_EVENT_BUFFER_ACCEPTED);
        }
      }
      off += elen;
    }
    dv.setUint16(6, SCLP_RC_NORMAL_COMPLETION);
  }

  /** Line-mode: an MDB whose message-text objects (MTO, type 4) carry EBCDIC lines. */
  private lineMode(_sccb: Uint8Array, dv: DataView, start: number, end: number): void {
    if (start + 12 > end) return;
    let off = start + 12; // mdb header: length, type, tag, revision
    while (off + 4 <= end) {
      const l = dv.getUint16(off);
      const t = dv.getUint16(off + 2);
      if (l < 4 || off + l > end) break;
      if (t === 0x0004 && l >= 10) {
        const text = new Uint8Array(l - 10 + 1);
        for (let i = 0; i < l - 10; i++) text[i] = EBCDIC_TO_ASCII[dv.getUint8(off + 10 + i)]!;
        text[l - 10] = 0x0a;
        this.cfg.output(text);
      }
      off += t === 0x0001 && l >= 4 ? 4 + 0 + (l - 4) : l; // GO object: skip as a whole
    }
  }
}
