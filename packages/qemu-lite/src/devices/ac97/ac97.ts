/**
 * The Intel AC'97 audio controller (82801AA, PCI 8086:2415, QEMU's -device AC97) with a
 * SigmaTel STAC9700 codec: NAM (mixer, I/O BAR0, 256 bytes) and NABM (bus master, I/O
 * BAR1, 64 bytes). PCM out is played by bus-master DMA from the guest's buffer
 * descriptor list (32 entries of address + length in samples with IOC/BUP flags), with
 * the CIV/LVI/PIV progression, status bits (DCH, CELV, LVBCI, BCIS) and the INTx line
 * as hw/audio/ac97.c. The DAC drains at its sample rate on the VM clock: poll() moves
 * (elapsed ns x rate) frames to the audio sink, so a guest sees buffers complete at the
 * pace real hardware would. Samples are 16-bit signed stereo, written to the sink after
 * the mixer's master and PCM-out volume (mute silences, attenuation scales).
 * Recording (PCM in, mic) runs no DMA: there is no capture source.
 */
import type { BusDevice } from '../../bus';
import type { GuestMemory } from '../../machine/guest-memory';
import type { Clock } from '../../clock';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PciFunction } from '../../pci/pci-device';
import {
  AC97_BDL_ENTRIES, AC97_Extended_Audio_Ctrl_Stat, AC97_Extended_Audio_ID, AC97_Headphone_Volume_Mute,
  AC97_Master_Volume_Mono_Mute, AC97_Master_Volume_Mute, AC97_MIC_ADC_Rate, AC97_NABM_SIZE, AC97_NAM_SIZE,
  AC97_PCM_Front_DAC_Rate, AC97_PCM_LFE_DAC_Rate, AC97_PCM_LR_ADC_Rate, AC97_PCM_Out_Volume_Mute,
  AC97_PCM_Surround_DAC_Rate, AC97_Powerdown_Ctrl_Stat, AC97_Record_Gain_Mute, AC97_Reset, AC97_Vendor_ID1,
  AC97_Vendor_ID2, AC97_VOLUME_MUTE, BD_IOC, CAS, CR_DONT_CLEAR_MASK, CR_IOCE, CR_LVBIE, CR_RPBM, CR_RR,
  CR_VALID_MASK, EACS_VRA, EACS_VRM, GC_CR, GC_VALID_MASK, GC_WR, GLOB_CNT, GLOB_STA, GS_MINT, GS_PIINT, GS_POINT,
  GS_RO_MASK, GS_S0CR, GS_VALID_MASK, GS_WCLEAR_MASK, NABM_BDBAR, NABM_CIV, NABM_CR, NABM_LVI, NABM_PICB, NABM_PIV,
  NABM_SR, PCI_CLASS_MULTIMEDIA_AUDIO, PCI_DEVICE_ID_INTEL_82801AA_5, PCI_VENDOR_ID_INTEL, PO_INDEX, SR_BCIS,
  SR_CELV, SR_DCH, SR_INT_MASK, SR_LVBCI, SR_RO_MASK, SR_WCLEAR_MASK,
} from './ac97-regs';

/** Where PCM out goes: the audiodev's voice (16-bit little-endian stereo frames). */
export interface AudioSink {
  /** The DAC rate changed (before any samples at the new rate). */
  setRate(hz: number): void;
  write(pcm: Uint8Array): void;
}

/** One DMA engine's registers (QEMU's AC97BusMasterRegs). */
export class Ac97BusMaster {
  bdbar = 0;
  civ = 0;
  lvi = 0;
  sr = SR_DCH;
  /** Samples left in the current buffer. */
  picb = 0;
  piv = 0;
  cr = 0;
  bdValid = false;
  bdAddr = 0;
  bdCtlLen = 0;
}

/** Bytes per stereo 16-bit frame. */
const FRAME = 4;
const NS = 1e9;

export interface Ac97Options {
  mem: GuestMemory;
  clock: Clock;
  sink: AudioSink;
}

export class Ac97 extends PciFunction {
  readonly bm = [new Ac97BusMaster(), new Ac97BusMaster(), new Ac97BusMaster()];
  readonly mixer = new Uint16Array(AC97_NAM_SIZE / 2);
  globCnt = 0;
  globSta = 0;
  cas = 0;
  private irqLevel = 0;
  private readonly mem: GuestMemory;
  private readonly clock: Clock;
  private readonly sink: AudioSink;
  /** VM-clock time up to which PCM out has been drained, and the fraction of a frame left over. */
  private lastNs = 0;
  private carryFrames = 0;
  private readonly dmaBuf = new Uint8Array(4096);

  constructor(opts: Ac97Options) {
    super('AC97', {
      vendorId: PCI_VENDOR_ID_INTEL, deviceId: PCI_DEVICE_ID_INTEL_82801AA_5, revision: 0x01,
      classCode: PCI_CLASS_MULTIMEDIA_AUDIO, subsystemVendorId: 0x8086, subsystemId: 0x0000,
      interruptPin: 1,
    });
    this.mem = opts.mem;
    this.clock = opts.clock;
    this.sink = opts.sink;
    // The board assigns both I/O BARs (pci-assign.ts) and routes INTA through its PIRQ link.
    this.defineBar(0, { size: AC97_NAM_SIZE, type: 'io', device: this.namDevice });
    this.defineBar(1, { size: AC97_NABM_SIZE, type: 'io', device: this.nabmDevice });
    this.mixerReset();
  }

  // ---- NAM: the codec's mixer ----

  private mixerReset(): void {
    this.mixer.fill(0);
    const st = (reg: number, v: number) => (this.mixer[reg >> 1] = v);
    st(AC97_Powerdown_Ctrl_Stat, 0x000f); // ADC, DAC, analog mixer, Vref ready
    st(AC97_Vendor_ID1, 0x8384); // SigmaTel STAC9700
    st(AC97_Vendor_ID2, 0x7600);
    st(AC97_Extended_Audio_ID, 0x0809);
    st(AC97_Extended_Audio_Ctrl_Stat, 0x0009);
    for (const r of [AC97_PCM_Front_DAC_Rate, AC97_PCM_Surround_DAC_Rate, AC97_PCM_LFE_DAC_Rate, AC97_PCM_LR_ADC_Rate, AC97_MIC_ADC_Rate]) st(r, 48000);
    st(AC97_Master_Volume_Mute, 0x8000);
    st(AC97_PCM_Out_Volume_Mute, 0x8808);
    st(AC97_Record_Gain_Mute, 0x8808);
    this.sink.setRate(48000);
  }

  /** The PCM out rate the DAC runs at (Hz). */
  get dacRate(): number {
    return this.mixer[AC97_PCM_Front_DAC_Rate >> 1]!;
  }

  namRead(offset: number): number {
    this.cas = 0;
    return this.mixer[(offset >> 1) & 0x7f]!;
  }

  namWrite(offset: number, val: number): void {
    this.cas = 0;
    const reg = offset & 0xfe;
    const st = (r: number, v: number) => (this.mixer[r >> 1] = v & 0xffff);
    switch (reg) {
      case AC97_Reset: this.mixerReset(); break;
      case AC97_Powerdown_Ctrl_Stat: st(reg, (val & ~0x800f) | (this.mixer[reg >> 1]! & 0xf)); break;
      case AC97_Vendor_ID1: case AC97_Vendor_ID2: case AC97_Extended_Audio_ID: break; // read-only
      case AC97_Extended_Audio_Ctrl_Stat:
        if (!(val & EACS_VRA)) {
          this.drain();
          st(AC97_PCM_Front_DAC_Rate, 48000);
          st(AC97_PCM_LR_ADC_Rate, 48000);
          this.sink.setRate(48000);
        }
        if (!(val & EACS_VRM)) st(AC97_MIC_ADC_Rate, 48000);
        st(reg, val);
        break;
      case AC97_PCM_Front_DAC_Rate:
        // Only with variable rate audio enabled; the DAC keeps 48 kHz otherwise.
        if (this.mixer[AC97_Extended_Audio_Ctrl_Stat >> 1]! & EACS_VRA && val !== 0) {
          this.drain();
          st(reg, val);
          this.sink.setRate(val);
        }
        break;
      case AC97_PCM_LR_ADC_Rate:
        if (this.mixer[AC97_Extended_Audio_Ctrl_Stat >> 1]! & EACS_VRA) st(reg, val);
        break;
      case AC97_MIC_ADC_Rate:
        if (this.mixer[AC97_Extended_Audio_Ctrl_Stat >> 1]! & EACS_VRM) st(reg, val);
        break;
      default: st(reg, val); break;
    }
  }

  // ---- NABM: bus master ----

  private box(offset: number): Ac97BusMaster | undefined {
    return offset < 0x30 ? this.bm[offset >> 4] : undefined;
  }

  /** GLOB_STA's interrupt bit for each box. */
  private static readonly INT_BITS = [GS_PIINT, GS_POINT, GS_MINT];

  private fetchBd(r: Ac97BusMaster): void {
    const a = r.bdbar + r.civ * 8;
    let addr = 0;
    let ctl = 0;
    try {
      addr = this.mem.readU32(a);
      ctl = this.mem.readU32(a + 4);
    } catch { /* a descriptor outside RAM reads as zeros (an empty buffer), as unclaimed DMA */ }
    r.bdValid = true;
    r.bdAddr = (addr & ~3) >>> 0;
    r.bdCtlLen = ctl >>> 0;
    r.picb = ctl & 0xffff;
  }

  /** Sets SR and raises/lowers the interrupt as QEMU's update_sr. */
  private updateSr(r: Ac97BusMaster, newSr: number): void {
    const newMask = newSr & SR_INT_MASK;
    const oldMask = r.sr & SR_INT_MASK;
    let event = false;
    let level = 0;
    if (newMask !== oldMask) {
      if (!newMask) {
        event = true;
      } else {
        if (newMask & SR_LVBCI && r.cr & CR_LVBIE) { event = true; level = 1; }
        if (newMask & SR_BCIS && r.cr & CR_IOCE) { event = true; level = 1; }
      }
    }
    r.sr = newSr;
    if (!event) return;
    const bit = Ac97.INT_BITS[this.bm.indexOf(r)]!;
    if (level) this.globSta |= bit;
    else this.globSta &= ~bit;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.globSta & (GS_PIINT | GS_POINT | GS_MINT) ? 1 : 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.setIrqLevel(level);
    }
  }

  private resetBmRegs(r: Ac97BusMaster): void {
    r.bdbar = 0;
    r.civ = 0;
    r.lvi = 0;
    this.updateSr(r, SR_DCH);
    r.picb = 0;
    r.piv = 0;
    r.cr &= CR_DONT_CLEAR_MASK;
    r.bdValid = false;
  }

  private writeCr(r: Ac97BusMaster, val: number): void {
    if (r === this.bm[PO_INDEX]) this.drain();
    if (val & CR_RR) {
      this.resetBmRegs(r);
      return;
    }
    const wasRunning = (r.cr & CR_RPBM) !== 0;
    r.cr = val & CR_VALID_MASK;
    if (!(r.cr & CR_RPBM)) {
      r.sr |= SR_DCH;
    } else if (!wasRunning || r.sr & SR_DCH) {
      r.civ = r.piv;
      r.piv = (r.piv + 1) % AC97_BDL_ENTRIES;
      this.fetchBd(r);
      r.sr &= ~SR_DCH;
    }
    if (r === this.bm[PO_INDEX]) this.lastNs = this.clock.nowNs();
  }

  private writeLvi(r: Ac97BusMaster, val: number): void {
    if (r === this.bm[PO_INDEX]) this.drain();
    // A halted engine that is still running resumes with the next descriptor.
    if (r.cr & CR_RPBM && r.sr & SR_DCH) {
      r.sr &= ~(SR_DCH | SR_CELV);
      r.civ = r.piv;
      r.piv = (r.piv + 1) % AC97_BDL_ENTRIES;
      this.fetchBd(r);
      if (r === this.bm[PO_INDEX]) this.lastNs = this.clock.nowNs();
    }
    r.lvi = val % AC97_BDL_ENTRIES;
  }

  private writeSr(r: Ac97BusMaster, val: number): void {
    r.sr |= val & ~(SR_RO_MASK | SR_WCLEAR_MASK);
    this.updateSr(r, r.sr & ~(val & SR_WCLEAR_MASK));
  }

  nabmRead(offset: number, len: number): number {
    if (offset === GLOB_CNT) return this.globCnt;
    if (offset === GLOB_STA) return (this.globSta | GS_S0CR) >>> 0;
    if (offset === CAS) {
      const v = this.cas;
      this.cas = 1;
      return v;
    }
    const r = this.box(offset);
    if (r === undefined) return 0;
    // Reading the position registers shows the DMA as of now.
    if (r === this.bm[PO_INDEX]) this.drain();
    const o = offset & 0xf;
    if (len === 4) {
      if (o === NABM_BDBAR) return r.bdbar;
      if (o === NABM_CIV) return (r.civ | (r.lvi << 8) | (r.sr << 16)) >>> 0;
      if (o === NABM_PICB) return (r.picb | (r.piv << 16) | (r.cr << 24)) >>> 0;
      return 0;
    }
    if (len === 2) {
      if (o === NABM_SR) return r.sr;
      if (o === NABM_PICB) return r.picb;
      return 0;
    }
    switch (o) {
      case NABM_CIV: return r.civ;
      case NABM_LVI: return r.lvi;
      case NABM_SR: return r.sr & 0xff;
      case NABM_PIV: return r.piv;
      case NABM_CR: return r.cr;
      default: return 0;
    }
  }

  nabmWrite(offset: number, len: number, val: number): void {
    if (offset === GLOB_CNT && len === 4) {
      if (val & GC_WR || val & GC_CR) {
        // Warm/cold reset of the AC-link: the codec comes back with its reset values.
        if (val & GC_CR) this.mixerReset();
      } else {
        this.globCnt = val & GC_VALID_MASK;
      }
      return;
    }
    if (offset === GLOB_STA && len === 4) {
      this.globSta &= ~(val & GS_WCLEAR_MASK);
      this.globSta |= (val & ~(GS_WCLEAR_MASK | GS_RO_MASK)) & GS_VALID_MASK;
      return;
    }
    const r = this.box(offset);
    if (r === undefined) return;
    const o = offset & 0xf;
    if (len === 4 && o === NABM_BDBAR) {
      r.bdbar = (val & ~3) >>> 0;
      return;
    }
    if (len === 4 && o === NABM_CIV) {
      // A dword at 0x04 covers LVI (0x05) and SR (0x06).
      this.writeLvi(r, (val >>> 8) & 0xff);
      this.writeSr(r, (val >>> 16) & 0xffff);
      return;
    }
    if (len === 4 && o === NABM_PICB) {
      this.writeCr(r, (val >>> 24) & 0xff);
      return;
    }
    if (o === NABM_SR) this.writeSr(r, val);
    else if (o === NABM_LVI && len === 1) this.writeLvi(r, val);
    else if (o === NABM_CR && len === 1) this.writeCr(r, val);
  }

  // ---- PCM out: the DAC draining the DMA buffers on the VM clock ----

  /** Plays the frames due since the last call. */
  drain(): void {
    const now = this.clock.nowNs();
    const r = this.bm[PO_INDEX]!;
    const running = r.cr & CR_RPBM && !(r.sr & SR_DCH) && this.config[PCI_COMMAND]! & PCI_COMMAND_MASTER;
    if (!running) {
      this.lastNs = now;
      this.carryFrames = 0;
      return;
    }
    const exact = ((now - this.lastNs) * this.dacRate) / NS + this.carryFrames;
    const frames = Math.floor(exact);
    this.carryFrames = exact - frames;
    this.lastNs = now;
    if (frames > 0) this.transferOut(r, frames * FRAME);
  }

  /** QEMU's transfer_audio for PO: moves up to `bytes` from the descriptors to the sink. */
  private transferOut(r: Ac97BusMaster, bytes: number): void {
    let elapsed = bytes;
    let stop = false;
    while (elapsed >> 1 && !stop) {
      if (!r.bdValid) this.fetchBd(r);
      if (!r.picb) {
        // An empty descriptor: end of list, or skip to the next one.
        if (r.civ === r.lvi) {
          r.sr |= SR_DCH;
          break;
        }
        r.sr &= ~SR_CELV;
        r.civ = r.piv;
        r.piv = (r.piv + 1) % AC97_BDL_ENTRIES;
        this.fetchBd(r);
        continue;
      }
      const n = Math.min(r.picb * 2, elapsed);
      this.play(r.bdAddr, n);
      r.bdAddr = (r.bdAddr + n) >>> 0;
      elapsed -= n;
      r.picb -= n >> 1;
      if (!r.picb) {
        let newSr = r.sr & ~SR_CELV;
        if (r.bdCtlLen & BD_IOC) newSr |= SR_BCIS;
        if (r.civ === r.lvi) {
          // The last valid buffer is done: the engine halts.
          newSr |= SR_LVBCI | SR_DCH | SR_CELV;
          stop = true;
        } else {
          r.civ = r.piv;
          r.piv = (r.piv + 1) % AC97_BDL_ENTRIES;
          this.fetchBd(r);
        }
        this.updateSr(r, newSr);
      }
    }
  }

  /** DMA-reads n bytes at addr and hands them to the sink through the mixer volume. */
  private play(addr: number, n: number): void {
    let off = 0;
    while (off < n) {
      const len = Math.min(n - off, this.dmaBuf.length);
      const chunk = this.dmaBuf.subarray(0, len);
      try {
        chunk.set(this.mem.slice(addr + off, len));
      } catch {
        chunk.fill(0); // outside RAM: the bus master reads nothing useful; play silence
      }
      this.applyVolume(chunk);
      this.sink.write(chunk);
      off += len;
    }
  }

  /** Master and PCM-out volume: mute bits silence, attenuation in 1.5 dB steps (PCM out: 0x08 is 0 dB). */
  private applyVolume(pcm: Uint8Array): void {
    const master = this.mixer[AC97_Master_Volume_Mute >> 1]!;
    const pcmOut = this.mixer[AC97_PCM_Out_Volume_Mute >> 1]!;
    if (master & AC97_VOLUME_MUTE || pcmOut & AC97_VOLUME_MUTE) {
      pcm.fill(0);
      return;
    }
    const db = (ch: number) => -1.5 * ((master >> (ch ? 0 : 8)) & 0x3f) + 1.5 * (8 - ((pcmOut >> (ch ? 0 : 8)) & 0x1f));
    const gain = [10 ** (db(0) / 20), 10 ** (db(1) / 20)];
    if (gain[0] === 1 && gain[1] === 1) return;
    const dv = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    for (let i = 0; i + 1 < pcm.length; i += 2) {
      const g = gain[(i >> 1) & 1]!;
      dv.setInt16(i, Math.max(-32768, Math.min(32767, Math.round(dv.getInt16(i, true) * g))), true);
    }
  }

  /** The next VM-clock time at which a buffer completes (Infinity when PCM out is idle). */
  nextDeadlineNs(): number {
    const r = this.bm[PO_INDEX]!;
    if (!(r.cr & CR_RPBM) || r.sr & SR_DCH) return Infinity;
    const frames = Math.max(1, Math.ceil(r.picb / 2 - this.carryFrames));
    return this.lastNs + (frames * NS) / this.dacRate;
  }

  // ---- PCI ----

  private readonly namDevice: BusDevice = {
    read: (_b, offset, data) => {
      const v = this.namRead(offset);
      // Byte reads return the addressed half; dword reads two registers.
      const w = data.length === 4 ? (v | (this.namRead(offset + 2) << 16)) >>> 0 : offset & 1 ? v >> 8 : v;
      for (let i = 0; i < data.length; i++) data[i] = (w >>> (8 * i)) & 0xff;
    },
    write: (_b, offset, data) => {
      if (data.length === 2) this.namWrite(offset, data[0]! | (data[1]! << 8));
      else if (data.length === 4) {
        this.namWrite(offset, data[0]! | (data[1]! << 8));
        this.namWrite(offset + 2, data[2]! | (data[3]! << 8));
      }
      // Byte writes to the mixer are ignored, as QEMU's nam_writeb.
    },
  };

  private readonly nabmDevice: BusDevice = {
    read: (_b, offset, data) => {
      const v = this.nabmRead(offset, data.length);
      for (let i = 0; i < data.length; i++) data[i] = (v >>> (8 * i)) & 0xff;
    },
    write: (_b, offset, data) => {
      let v = 0;
      for (let i = data.length - 1; i >= 0; i--) v = (v * 256 + data[i]!) >>> 0;
      this.nabmWrite(offset, data.length, v);
    },
  };
}
