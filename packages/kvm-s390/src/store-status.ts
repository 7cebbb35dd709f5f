/**
 * STORE STATUS (kvm_s390_store_status_unloaded): the CPU's registers into the save
 * areas at an absolute address (the lowcore layout's 0x1200.. fields, relative to it).
 */
import type { S390Vcpu } from './kvm-s390';
import {
  LC_AREGS_SAVE_AREA, LC_CLOCK_COMP_SAVE_AREA, LC_CPU_TIMER_SAVE_AREA, LC_CREGS_SAVE_AREA,
  LC_FPREGS_SAVE_AREA, LC_FP_CREG_SAVE_AREA, LC_GPREGS_SAVE_AREA, LC_PREFIX_SAVE_AREA,
  LC_PSW_SAVE_AREA, LC_TOD_PROGREG_SAVE_AREA,
} from './engine/lowcore';

/** `prefixed`: store at the CPU's own prefix area (absolute 0x1200.. of its lowcore). */
export function storeStatusAt(v: S390Vcpu, addr: number, prefixed: boolean): void {
  const c = v.cpu;
  const st = c.storage;
  const base = prefixed ? (v.sb.prefix & 0x7fffe000) : addr - 0x1200;
  const w32 = (off: number, val: number) => {
    const o = st.lookup(base + off, 4);
    if (o >= 0) st.view.setUint32(o, val >>> 0);
  };
  for (let r = 0; r < 16; r++) {
    w32(LC_FPREGS_SAVE_AREA + 8 * r, c.fpr[2 * r]!);
    w32(LC_FPREGS_SAVE_AREA + 8 * r + 4, c.fpr[2 * r + 1]!);
    w32(LC_GPREGS_SAVE_AREA + 8 * r, c.gr[2 * r]!);
    w32(LC_GPREGS_SAVE_AREA + 8 * r + 4, c.gr[2 * r + 1]!);
    w32(LC_AREGS_SAVE_AREA + 4 * r, c.ar[r]!);
    w32(LC_CREGS_SAVE_AREA + 8 * r, v.sb.gcrWord(r, 0));
    w32(LC_CREGS_SAVE_AREA + 8 * r + 4, v.sb.gcrWord(r, 1));
  }
  for (let i = 0; i < 4; i++) w32(LC_PSW_SAVE_AREA + 4 * i, v.sb.gpswWord(i as 0 | 1 | 2 | 3));
  w32(LC_PREFIX_SAVE_AREA, v.sb.prefix & 0x7fffe000);
  w32(LC_FP_CREG_SAVE_AREA, c.fpc);
  w32(LC_TOD_PROGREG_SAVE_AREA, v.sb.todpr);
  const cputm = BigInt.asUintN(64, c.getCputm());
  w32(LC_CPU_TIMER_SAVE_AREA, Number(cputm >> 32n));
  w32(LC_CPU_TIMER_SAVE_AREA + 4, Number(cputm & 0xffffffffn));
  w32(LC_CLOCK_COMP_SAVE_AREA, Number((c.ckc >> 32n) & 0xffffffffn) >>> 8);
  w32(LC_CLOCK_COMP_SAVE_AREA + 4, Number(((c.ckc >> 8n) & 0xffffffffn)));
}
