/* Local APIC (xAPIC MMIO), IOAPIC, and the 8259 PIC / 8254 PIT pair. */
#ifndef KVMTS_X86_APIC_H
#define KVMTS_X86_APIC_H
#include "processor.h"

#define APIC_BASE 0xfee00000ul
#define APIC_ID 0x20
#define APIC_LVR 0x30
#define APIC_TASKPRI 0x80
#define APIC_EOI 0xb0
#define APIC_SPIV 0xf0
#define APIC_ISR 0x100
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_ICR 0x300
#define APIC_ICR2 0x310
#define APIC_LVTT 0x320
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_LVTERR 0x370
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_TDCR 0x3e0
#define APIC_SELF_IPI 0x3f0 /* x2APIC only */

#define APIC_SPIV_APIC_ENABLED (1u << 8)
#define APIC_LVT_MASKED (1u << 16)
#define APIC_LVT_TIMER_ONESHOT (0u << 17)
#define APIC_LVT_TIMER_PERIODIC (1u << 17)
#define APIC_LVT_TIMER_TSCDEADLINE (2u << 17)
#define APIC_DM_FIXED 0x000
#define APIC_DM_NMI 0x400
#define APIC_DM_INIT 0x500
#define APIC_DM_STARTUP 0x600
#define APIC_INT_LEVELTRIG 0x8000
#define APIC_INT_ASSERT 0x4000
#define APIC_ICR_BUSY 0x1000
#define APIC_DEST_SELF 0x40000
#define APIC_DEST_ALLINC 0x80000
#define APIC_DEST_ALLBUT 0xc0000

static inline u32 apic_read(u32 reg) { return *(volatile u32 *)(APIC_BASE + reg); }
static inline void apic_write(u32 reg, u32 v) { *(volatile u32 *)(APIC_BASE + reg) = v; }
static inline u32 apic_id(void) { return apic_read(APIC_ID) >> 24; }
static inline void apic_eoi(void) { apic_write(APIC_EOI, 0); }

void apic_enable(void);
void apic_icr_write(u32 low, u32 dest);
void apic_self_ipi(u8 vector);

#define IOAPIC_BASE 0xfec00000ul
u32 ioapic_read(u32 reg);
void ioapic_write(u32 reg, u32 v);
/* Route IOAPIC pin to vector on the APIC with dest_id (fixed, physical, edge, high). */
void ioapic_route(int pin, u8 vector, u8 dest_id, bool level, bool masked);

/* 8259A pair remapped to vectors base..base+15; all lines masked except those in unmask. */
void pic_init(u8 base, u16 unmask);
void pic_eoi(int irq);
/* 8254 channel 0 in mode 2 (rate generator) with the given divisor of 1.193182 MHz. */
void pit_set_periodic(u16 divisor);
/* 8254 channel 0, mode 0 (one interrupt on terminal count). */
void pit_set_oneshot(u16 count);
void io_delay(unsigned n);

#endif
