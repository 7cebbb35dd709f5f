/**
 * Local APIC register offsets and bits (arch/x86/include/asm/apicdef.h, SDM vol. 3
 * ch. 11). Offsets index the 4 KiB xAPIC page; x2APIC MSR = 0x800 + (offset >> 4).
 */
export const APIC_ID = 0x20;
export const APIC_LVR = 0x30;
export const APIC_TASKPRI = 0x80;
export const APIC_ARBPRI = 0x90;
export const APIC_PROCPRI = 0xa0;
export const APIC_EOI = 0xb0;
export const APIC_RRR = 0xc0;
export const APIC_LDR = 0xd0;
export const APIC_DFR = 0xe0;
export const APIC_SPIV = 0xf0;
export const APIC_ISR = 0x100;
export const APIC_TMR = 0x180;
export const APIC_IRR = 0x200;
export const APIC_ESR = 0x280;
export const APIC_LVTCMCI = 0x2f0;
export const APIC_ICR = 0x300;
export const APIC_ICR2 = 0x310;
export const APIC_LVTT = 0x320;
export const APIC_LVTTHMR = 0x330;
export const APIC_LVTPC = 0x340;
export const APIC_LVT0 = 0x350;
export const APIC_LVT1 = 0x360;
export const APIC_LVTERR = 0x370;
export const APIC_TMICT = 0x380;
export const APIC_TMCCT = 0x390;
export const APIC_TDCR = 0x3e0;
export const APIC_SELF_IPI = 0x3f0;

/** KVM's LAPIC: version 0x14 with 6 LVT entries (max LVT index 5 in bits 23:16). */
export const APIC_VERSION = 0x14;
export const KVM_APIC_NR_LVT_ENTRIES = 6;
export const APIC_DEFAULT_PHYS_BASE = 0xfee00000;
export const LAPIC_MMIO_LENGTH = 0x1000;

/** MSR_IA32_APICBASE bits */
export const MSR_IA32_APICBASE = 0x1b;
export const MSR_IA32_APICBASE_BSP = 1 << 8;
export const MSR_IA32_APICBASE_EXTD = 1 << 10;
export const MSR_IA32_APICBASE_ENABLE = 1 << 11;
export const MSR_IA32_TSC_DEADLINE = 0x6e0;
export const APIC_BASE_MSR = 0x800;
export const X2APIC_MSR_LAST = 0x8ff;

export const APIC_SPIV_APIC_ENABLED = 1 << 8;
export const APIC_SPIV_FOCUS_DISABLED = 1 << 9;
export const APIC_DFR_FLAT = 0xffffffff;
export const APIC_DFR_CLUSTER = 0x0fffffff;
export const APIC_LDR_MASK = 0xff000000;

export const APIC_VECTOR_MASK = 0xff;
export const APIC_MODE_MASK = 0x700;
export const APIC_SEND_PENDING = 0x1000;
export const APIC_INPUT_POLARITY = 0x2000;
export const APIC_LVT_REMOTE_IRR = 0x4000;
export const APIC_LVT_LEVEL_TRIGGER = 0x8000;
export const APIC_LVT_MASKED = 0x10000;
export const APIC_LVT_TIMER_ONESHOT = 0;
export const APIC_LVT_TIMER_PERIODIC = 1 << 17;
export const APIC_LVT_TIMER_TSCDEADLINE = 2 << 17;
export const APIC_LVT_TIMER_MASK = 3 << 17;

/** Delivery modes, in ICR/LVT/redirection-entry position (bits 10:8). */
export const APIC_DM_FIXED = 0x000;
export const APIC_DM_LOWEST = 0x100;
export const APIC_DM_SMI = 0x200;
export const APIC_DM_REMRD = 0x300;
export const APIC_DM_NMI = 0x400;
export const APIC_DM_INIT = 0x500;
export const APIC_DM_STARTUP = 0x600;
export const APIC_DM_EXTINT = 0x700;

/** ICR bits */
export const APIC_DEST_LOGICAL = 0x800;
export const APIC_ICR_BUSY = 0x1000;
export const APIC_INT_ASSERT = 0x4000;
export const APIC_INT_LEVELTRIG = 0x8000;
export const APIC_SHORT_MASK = 0xc0000;
export const APIC_DEST_NOSHORT = 0;
export const APIC_DEST_SELF = 1;
export const APIC_DEST_ALLINC = 2;
export const APIC_DEST_ALLBUT = 3;

/** ESR bits (SDM 11.5.3) */
export const APIC_ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const APIC_ESR_RECV_ILLEGAL_VECTOR = 1 << 6;
export const APIC_ESR_ILLEGAL_REGISTER = 1 << 7;

export const APIC_BROADCAST = 0xff;
export const X2APIC_BROADCAST = 0xffffffff;
/** KVM's APIC bus: 1 ns per cycle (APIC_BUS_CYCLE_NS), i.e. a 1 GHz timer input. */
export const APIC_BUS_CYCLE_NS = 1;
export const APIC_BUS_FREQUENCY_KHZ = 1_000_000 / APIC_BUS_CYCLE_NS;
/** Linux's min_timer_period_us: periodic timers faster than 200 us are slowed down. */
export const MIN_TIMER_PERIOD_NS = 200_000;

/** The LVT registers in LVT index order (timer, thermal, perf, LINT0, LINT1, error). */
export const APIC_LVT_REGS = [APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC, APIC_LVT0, APIC_LVT1, APIC_LVTERR] as const;
const LVT_MASK = APIC_LVT_MASKED | APIC_SEND_PENDING | APIC_VECTOR_MASK;
const LINT_MASK = LVT_MASK | APIC_MODE_MASK | APIC_INPUT_POLARITY | APIC_LVT_REMOTE_IRR | APIC_LVT_LEVEL_TRIGGER;
/** apic_lvt_mask[]: the writable bits of each LVT entry. */
export const APIC_LVT_WRITE_MASK = [
  LVT_MASK | APIC_LVT_TIMER_MASK, LVT_MASK | APIC_MODE_MASK, LVT_MASK | APIC_MODE_MASK,
  LINT_MASK, LINT_MASK, LVT_MASK,
] as const;
