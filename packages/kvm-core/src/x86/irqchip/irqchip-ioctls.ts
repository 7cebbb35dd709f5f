/**
 * The x86 VM and vCPU ioctls of the in-kernel irqchip, PIT, routing, eventfds and
 * clock (kvm_arch_vm_ioctl / kvm_arch_vcpu_ioctl), wired into KvmX86Vm.ioctls and
 * KvmVcpuX86.ioctls. Every argument is zod-validated; errnos are Linux's.
 */
import { z } from 'zod';
import { KvmError } from '../../errors';
import { parseArg, u8, u32, u53, u64 } from '../../schemas';
import {
  KVM_APIC_REG_SIZE, KVM_IRQCHIP_IOAPIC, KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE,
} from '../../uapi/kvm';
import { KvmPit, KVM_PIT_FLAGS_HPET_LEGACY, KVM_PIT_FLAGS_SPEAKER_DATA_ON, type KvmPitState2 } from '../i8254';
import { KVM_PIT_SPEAKER_DUMMY } from '../../uapi/kvm';
import { KVM_CLOCK_HOST_TSC, KVM_CLOCK_REALTIME, KVM_CLOCK_TSC_STABLE } from '../kvmclock';
import { KVM_TSC_KHZ_MAX, KVM_TSC_KHZ_MIN } from '../tsc';
import type { KvmVcpuX86, KvmX86Vm } from '../x86';
import { KVM_PIC_STATE_FIELDS, type KvmPicState } from './i8259';
import { IOAPIC_MEM_LENGTH, IOAPIC_NUM_PINS, type KvmIoapicState } from './ioapic';
import { KvmIrqchip } from './irqchip';
import { buildRoutingTable, KVM_PIT_IRQ_SOURCE_ID, KVM_USERSPACE_IRQ_SOURCE_ID, kvmMsiSchema, KVM_MSI_VALID_DEVID } from './irq-routing';

const picStateSchema = z.object(Object.fromEntries(KVM_PIC_STATE_FIELDS.map((k) => [k, u8])) as Record<(typeof KVM_PIC_STATE_FIELDS)[number], typeof u8>).strict();
const ioapicStateSchema = z.object({
  baseAddress: u53, ioregsel: u32, id: u32, irr: u32,
  redirtbl: z.array(u64).length(IOAPIC_NUM_PINS),
}).strict();
const pitChannelSchema = z.object({
  count: z.number().int().min(0).max(0x10000), latchedCount: z.number().int().min(0).max(0xffff),
  countLatched: u8, statusLatched: u8, status: u8, readState: u8, writeState: u8, writeLatch: u8,
  rwMode: z.number().int().min(0).max(3), mode: z.number().int().min(0).max(5), bcd: z.number().int().min(0).max(1),
  gate: z.number().int().min(0).max(1), countLoadTime: z.bigint(),
}).strict();
const pitState2Schema = z.object({
  channels: z.tuple([pitChannelSchema, pitChannelSchema, pitChannelSchema]), flags: u32,
}).strict();
const irqLevelSchema = z.object({ irq: u32, level: u32 });
const clockDataSchema = z.object({ clock: u64, flags: u32.optional(), realtime: u64.optional() }).strict();
const clockSourceSchema = z.object({
  mode: z.enum(['host', 'virtual']), nsPerInstruction: z.number().positive().finite().optional(),
  realtimeAtZeroNs: z.number().nonnegative().finite().optional(),
}).strict();

function chipId(id: unknown): number {
  const v = parseArg(u32, id, 'chipId');
  if (v !== KVM_IRQCHIP_PIC_MASTER && v !== KVM_IRQCHIP_PIC_SLAVE && v !== KVM_IRQCHIP_IOAPIC)
    throw new KvmError('EINVAL', `chipId: ${v} is not KVM_IRQCHIP_PIC_MASTER (0), PIC_SLAVE (1) or IOAPIC (2)`);
  return v;
}

function needChip(kvm: KvmX86Vm, what: string): KvmIrqchip {
  if (kvm.irqchip === null) throw new KvmError('ENXIO', `${what}: no in-kernel irqchip (KVM_CREATE_IRQCHIP first)`);
  return kvm.irqchip;
}

function needPit(kvm: KvmX86Vm, what: string): KvmPit {
  if (kvm.pit === null) throw new KvmError('ENXIO', `${what}: no in-kernel PIT (KVM_CREATE_PIT2 first)`);
  return kvm.pit;
}

/** The VM-fd ioctls (KvmX86Vm.ioctls). */
export function x86VmIrqchipIoctls(kvm: KvmX86Vm): Record<string, (...args: never[]) => unknown> {
  const irqLine = (irq: unknown, level: unknown): number => {
    const a = parseArg(irqLevelSchema, { irq, level }, 'irqLevel');
    const chip = needChip(kvm, 'KVM_IRQ_LINE');
    return chip.setIrq(KVM_USERSPACE_IRQ_SOURCE_ID, a.irq, a.level ? 1 : 0);
  };
  return {
    /** KVM_CREATE_IRQCHIP: EEXIST twice, EINVAL once vCPUs exist. */
    createIrqchip: () => {
      if (kvm.irqchip !== null) throw new KvmError('EEXIST', 'KVM_CREATE_IRQCHIP: the irqchip already exists');
      if (kvm.vcpus.length > 0) throw new KvmError('EINVAL', 'KVM_CREATE_IRQCHIP: vCPUs have already been created');
      const chip = new KvmIrqchip(() => kvm.kickPicTargets());
      for (const d of chip.pic.ioDevices()) kvm.pioBus.register(d.addr, d.len, d.dev);
      kvm.irqchip = chip;
      kvm.mmioBus.register(chip.ioapic.baseAddress, IOAPIC_MEM_LENGTH, kvm.ioapicDevice());
    },
    irqLine: (irq: unknown, level: unknown) => {
      irqLine(irq, level);
    },
    irqLineStatus: irqLine,
    getIrqchip: (id: unknown): KvmPicState | KvmIoapicState => {
      const c = chipId(id);
      const chip = needChip(kvm, 'KVM_GET_IRQCHIP');
      return c === KVM_IRQCHIP_IOAPIC ? chip.ioapic.getState() : chip.pic.getState(c as 0 | 1);
    },
    setIrqchip: (id: unknown, state: unknown) => {
      const c = chipId(id);
      const chip = needChip(kvm, 'KVM_SET_IRQCHIP');
      if (c === KVM_IRQCHIP_IOAPIC) {
        const s = parseArg(ioapicStateSchema, state, 'state');
        kvm.mmioBus.unregister(kvm.ioapicDevice());
        chip.ioapic.setState(s);
        kvm.mmioBus.register(chip.ioapic.baseAddress, IOAPIC_MEM_LENGTH, kvm.ioapicDevice());
      } else {
        chip.pic.setState(c as 0 | 1, parseArg(picStateSchema, state, 'state'));
      }
    },
    /** KVM_CREATE_PIT2: EEXIST twice, ENOENT without the PIC. */
    createPit2: (config: unknown = { flags: 0 }) => {
      const cfg = parseArg(z.object({ flags: u32 }).strict(), config, 'config');
      if (kvm.pit !== null) throw new KvmError('EEXIST', 'KVM_CREATE_PIT2: the PIT already exists');
      if (kvm.irqchip === null) throw new KvmError('ENOENT', 'KVM_CREATE_PIT2: needs the in-kernel PIC (KVM_CREATE_IRQCHIP)');
      const chip = kvm.irqchip;
      const pit = new KvmPit(kvm.clock, () => {
        chip.setIrq(KVM_PIT_IRQ_SOURCE_ID, 0, 1);
        chip.setIrq(KVM_PIT_IRQ_SOURCE_ID, 0, 0);
      }, (cfg.flags & KVM_PIT_SPEAKER_DUMMY) !== 0);
      for (const d of pit.ioDevices()) kvm.pioBus.register(d.addr, d.len, d.dev);
      chip.registerAckNotifier((gsi) => {
        if (gsi === 0) pit.ackIrq();
      });
      // pit_mask_notifer: unmasking IRQ0 forgets the ticks queued while it was masked.
      chip.registerMaskNotifier((gsi, masked) => {
        if (gsi === 0 && !masked) pit.resetReinject();
      });
      kvm.pit = pit;
    },
    /** KVM_REINJECT_CONTROL: the PIT's lost-tick policy (ENXIO without a PIT). */
    reinjectControl: (ctl: unknown) => {
      const c = parseArg(z.object({ pitReinject: u8 }).strict(), ctl, 'ctl');
      needPit(kvm, 'KVM_REINJECT_CONTROL').setReinject(c.pitReinject !== 0);
    },
    getPit2: (): KvmPitState2 => needPit(kvm, 'KVM_GET_PIT2').getState(),
    setPit2: (state: unknown) => {
      const s = parseArg(pitState2Schema, state, 'state') as KvmPitState2;
      if (s.flags & ~(KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON)) throw new KvmError('EINVAL', 'state.flags: unknown bits');
      needPit(kvm, 'KVM_SET_PIT2').setState(s);
    },
    /** KVM_SET_GSI_ROUTING: all-or-nothing replacement of the table. */
    setGsiRouting: (entries: unknown) => {
      const chip = kvm.irqchip;
      if (chip === null) throw new KvmError('EINVAL', 'KVM_SET_GSI_ROUTING: no in-kernel irqchip');
      chip.routing = buildRoutingTable(entries);
    },
    /** KVM_SIGNAL_MSI: >0 delivered to that many LAPICs, 0 not accepted, -1 no target. */
    signalMsi: (msi: unknown): number => {
      const m = parseArg(kvmMsiSchema, msi, 'msi');
      if ((m.flags ?? 0) & ~KVM_MSI_VALID_DEVID) throw new KvmError('EINVAL', 'msi.flags: unknown bits');
      const chip = kvm.irqchip;
      if (chip === null) throw new KvmError('EINVAL', 'KVM_SIGNAL_MSI: no in-kernel irqchip');
      return chip.setMsi(m.addressLo, m.addressHi, m.data);
    },
    irqfd: (args: unknown) => kvm.irqfds.ioctl(args),
    ioeventfd: (args: unknown) => kvm.ioeventfds.ioctl(args),
    /** KVM_GET_CLOCK: kvmclock ns; realtime (host clock only) with KVM_CLOCK_REALTIME. */
    getClock: () => {
      const now = kvm.clock.nowNs();
      const clock = BigInt(Math.floor(now + kvm.kvmclockOffsetNs));
      return {
        clock,
        flags: KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME,
        realtime: kvm.clock.realtimeNsBig(now),
      };
    },
    /** KVM_SET_CLOCK: kvmclock reads `clock` now (KVM_CLOCK_REALTIME: advanced by elapsed realtime). */
    setClock: (data: unknown) => {
      const d = parseArg(clockDataSchema, data, 'data');
      const flags = d.flags ?? 0;
      // KVM_CLOCK_VALID_FLAGS, so the flags KVM_GET_CLOCK returned can be passed back.
      const valid = KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
      if (flags & ~valid) throw new KvmError('EINVAL', `data.flags: 0x${flags.toString(16)} has bits outside KVM_CLOCK_VALID_FLAGS`);
      const now = kvm.clock.nowNs();
      let target = d.clock;
      if (flags & KVM_CLOCK_REALTIME && d.realtime !== undefined) {
        const delta = kvm.clock.realtimeNsBig(now) - d.realtime;
        if (delta > 0n) target += delta;
      }
      kvm.kvmclockOffsetNs = Number(target - BigInt(Math.floor(now))) + (Math.floor(now) - now);
      for (const v of kvm.vcpus) v.requestClockUpdate();
    },
    /**
     * kvmts: choose the VM's clock (host, or virtual for deterministic runs). Like other
     * VM-wide setup it must come before KVM_CREATE_VCPU (EBUSY after); the clock restarts at 0.
     */
    setClockSource: (opts: unknown) => {
      const o = parseArg(clockSourceSchema, opts, 'opts');
      if (kvm.vcpus.length > 0) throw new KvmError('EBUSY', 'setClockSource: vCPUs already exist');
      kvm.clock.configure({ ...o, startNs: 0 });
    },
    /** kvmts: the VM clock now, in ns. */
    clockNowNs: (): number => kvm.clock.nowNs(),
    /** kvmts: the earliest armed timer deadline (VM-clock ns), or -1 when none is armed. */
    nextTimerDeadline: (): number => kvm.nextTimerDeadline(),
    /** kvmts: every vCPU is idle: move the virtual clock to `ns` (no-op for host time). */
    warpClock: (ns: unknown) => {
      kvm.clock.warpTo(parseArg(z.number().nonnegative().finite(), ns, 'ns'));
    },
  };
}

const vcpuEventsSchema = z.object({
  exception: z.object({ injected: u8, nr: u8, hasErrorCode: u8, pending: u8, errorCode: u32 }).strict(),
  interrupt: z.object({ injected: u8, nr: u8, soft: u8, shadow: u8 }).strict(),
  nmi: z.object({ injected: u8, pending: u8, masked: u8 }).strict(),
  sipiVector: u32,
  flags: u32,
}).strict();

/** struct kvm_vcpu_events (the subset this layer keeps). */
export type KvmVcpuEvents = z.infer<typeof vcpuEventsSchema>;

/** The vCPU-fd ioctls (KvmVcpuX86.ioctls). */
export function x86VcpuIrqchipIoctls(vcpu: KvmVcpuX86): Record<string, (...args: never[]) => unknown> {
  const needApic = (what: string) => {
    if (vcpu.apic === null) throw new KvmError('ENXIO', `${what}: no in-kernel LAPIC (KVM_CREATE_IRQCHIP before the vCPU)`);
    return vcpu.apic;
  };
  return {
    getLapic: (): Uint8Array => needApic('KVM_GET_LAPIC').getState(),
    setLapic: (regs: unknown) => {
      const page = parseArg(z.instanceof(Uint8Array, { message: 'must be a Uint8Array' }).refine((r) => r.length === KVM_APIC_REG_SIZE, { message: `must be ${KVM_APIC_REG_SIZE} bytes (kvm_lapic_state)` }), regs, 'regs');
      needApic('KVM_SET_LAPIC').setState(page);
    },
    getVcpuEvents: (): KvmVcpuEvents => {
      const ex = vcpu.exception;
      return {
        exception: { injected: 0, nr: ex?.vector ?? 0, hasErrorCode: ex?.hasErrorCode ? 1 : 0, pending: ex ? 1 : 0, errorCode: ex?.errorCode ?? 0 },
        interrupt: { injected: vcpu.interruptNr >= 0 ? 1 : 0, nr: Math.max(0, vcpu.interruptNr), soft: 0, shadow: vcpu.ops.getInterruptShadow(vcpu) },
        nmi: { injected: 0, pending: vcpu.nmiPending, masked: vcpu.ops.getNmiMask(vcpu) ? 1 : 0 },
        sipiVector: vcpu.apic?.sipiVector ?? 0,
        flags: 0,
      };
    },
    setVcpuEvents: (events: unknown) => {
      const e = parseArg(vcpuEventsSchema, events, 'events');
      if (e.flags !== 0) throw new KvmError('EINVAL', 'events.flags: no KVM_VCPUEVENT_VALID_* flag is supported');
      vcpu.exception = e.exception.pending || e.exception.injected
        ? { vector: e.exception.nr, hasErrorCode: e.exception.hasErrorCode !== 0, errorCode: e.exception.errorCode, payload: 0, hasPayload: false }
        : null;
      vcpu.interruptNr = e.interrupt.injected ? e.interrupt.nr : -1;
      vcpu.ops.setInterruptShadow(vcpu, e.interrupt.shadow);
      vcpu.nmiPending = Math.min(e.nmi.pending + e.nmi.injected, 2);
      vcpu.ops.setNmiMask(vcpu, e.nmi.masked !== 0);
      if (vcpu.apic !== null) vcpu.apic.sipiVector = e.sipiVector;
    },
    /** KVM_GET_TSC_KHZ */
    getTscKhz: (): number => vcpu.tsc.tscKhz,
    /** KVM_SET_TSC_KHZ */
    setTscKhz: (khz: unknown) => {
      const v = parseArg(u32, khz, 'khz');
      if (v < KVM_TSC_KHZ_MIN || v > KVM_TSC_KHZ_MAX) throw new KvmError('EINVAL', `khz: ${v} is outside ${KVM_TSC_KHZ_MIN}..${KVM_TSC_KHZ_MAX}`);
      vcpu.tsc.setKhz(v);
      vcpu.requestClockUpdate();
    },
  };
}
