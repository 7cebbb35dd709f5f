/**
 * STORE SYSTEM INFORMATION (handle_stsi in priv.c): fc 0 returns the current level (3:
 * a virtual machine); 1.1.1 describes the machine, 3.2.2 the VM levels (KVM's own entry
 * first). Other selector combinations have no data here: cc 3.
 */
import type { S390Vcpu } from './kvm-s390';
import { PGM_SPECIFICATION } from './engine/pgm';
import { guestAccessOk, ilen } from './priv';

/** ASCII to EBCDIC for the characters SYSIBs use (digits, upper case, blank, '/'). */
export function ebcdic(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) out.push(0xf0 + c - 0x30);
    else if (c >= 0x41 && c <= 0x49) out.push(0xc1 + c - 0x41);
    else if (c >= 0x4a && c <= 0x52) out.push(0xd1 + c - 0x4a);
    else if (c >= 0x53 && c <= 0x5a) out.push(0xe2 + c - 0x53);
    else if (c >= 0x61 && c <= 0x69) out.push(0x81 + c - 0x61);
    else if (c >= 0x6a && c <= 0x72) out.push(0x91 + c - 0x6a);
    else if (c >= 0x73 && c <= 0x7a) out.push(0xa2 + c - 0x73);
    else if (ch === '/') out.push(0x61);
    else out.push(0x40);
  }
  return out;
}

export function handleStsi(v: S390Vcpu): number {
  const c = v.cpu;
  const g = c.gr;
  const r0 = g[1]!;
  const r1 = g[3]!;
  const fc = r0 >>> 28;
  const sel1 = r0 & 0xff;
  const sel2 = r1 & 0xffff;
  if ((r0 & 0x0fffff00) !== 0 || (r1 & 0xffff0000) !== 0) { v.injectProgram(PGM_SPECIFICATION, ilen(v)); return 1; }
  if (fc > 3) { v.setCc(3); return 1; }
  const ipb = v.sb.ipb;
  const a = c.ea(ipb >>> 28, 0, (ipb >>> 16) & 0xfff);
  if (fc === 0) { g[0] = g[0]!; g[1] = (3 << 28) >>> 0; v.setCc(0); return 1; }
  if (a & 0xfff) { v.injectProgram(PGM_SPECIFICATION, ilen(v)); return 1; }
  const page = new Uint8Array(4096);
  if (fc === 1 && sel1 === 1 && sel2 === 1) {
    page.set(ebcdic('IBM             '), 32); // manufacturer
    page.set(ebcdic('2827'), 48); // type (zEC12)
    page.set(ebcdic('KVMTS           '), 64); // model capacity
    page.set(ebcdic('0000000000000000'), 80); // sequence
    page.set(ebcdic('00  '), 96); // plant
    page.set(ebcdic('H43             '), 100); // model
  } else if (fc === 3 && sel1 === 2 && sel2 === 2) {
    const cpus = v.vm.vcpus.size;
    const dv = new DataView(page.buffer);
    page[31] = 1; // count of VM levels
    const vm0 = 32;
    dv.setUint16(vm0 + 4, cpus); // cpus_total
    dv.setUint16(vm0 + 6, cpus); // cpus_configured
    dv.setUint16(vm0 + 8, 0); // cpus_standby
    dv.setUint16(vm0 + 10, 0); // cpus_reserved
    page.set(ebcdic('KVMguest'), vm0 + 12); // name
    dv.setUint32(vm0 + 20, 1000); // caf
    page.set(ebcdic('KVM/Linux       '), vm0 + 24); // cpi
  } else {
    v.setCc(3);
    return 1;
  }
  if (!guestAccessOk(v, () => {
    c.probeWrite(a, 4096);
    for (let i = 0; i < 4096; i++) c.wr8(c.wrapNum(a + i), page[i]!);
  })) return 1;
  g[1] = 0;
  g[0] = 0;
  v.setCc(0);
  return 1;
}
