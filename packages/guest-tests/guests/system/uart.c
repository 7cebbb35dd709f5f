/*
 * The 16550A UART at COM1 with interrupts, through the 8259 PIC (IRQ4): scratch register,
 * LSR and IIR at rest, the THR-empty interrupt (raised when ETBEI is enabled with THR
 * empty, acknowledged by the IIR read that reports it), loopback (MCR.LOOP: transmitted
 * bytes come back as received-data interrupts, MSR mirrors MCR), and bytes typed on the
 * host (the VMM's stdin, fed by the test once "uart: ready for input" is printed).
 * The console shares COM1 (polled); IER is 0 whenever this guest prints.
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"

#define COM1 0x3f8
#define RBR 0
#define THR 0
#define IER 1
#define IIR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7
#define IRQ4_VECTOR 0x24
#define PIT_VECTOR 0x20

static volatile int thr_irqs, rx_irqs, other_irqs, pit_ticks;
static volatile u8 last_iir;
static volatile char rx_buf[32];
static volatile int rx_len;

static void uart_isr(struct ex_regs *regs)
{
	(void)regs;
	u8 iir = inb(COM1 + IIR);
	last_iir = iir;
	switch (iir & 0x0f) {
	case 0x02:
		thr_irqs++;
		break;
	case 0x04: case 0x0c:
		rx_irqs++;
		while (inb(COM1 + LSR) & 0x01) {
			char c = (char)inb(COM1 + RBR);
			if (rx_len < (int)sizeof(rx_buf) - 1)
				rx_buf[rx_len++] = c;
		}
		break;
	case 0x01:
		/* The edge was latched in the PIC but the cause is gone (already serviced). */
		break;
	default:
		other_irqs++;
	}
	pic_eoi(4);
}

static void pit_isr(struct ex_regs *regs)
{
	(void)regs;
	pit_ticks++;
	pic_eoi(0);
}

/* Sleep until *counter reaches n or about `ticks` 10 ms PIT ticks pass. */
static bool wait_until(volatile int *counter, int n, int ticks)
{
	int start = pit_ticks;
	while (*counter < n && pit_ticks - start < ticks) {
		safe_halt();
		irq_disable();
	}
	return *counter >= n;
}

int main(void)
{
	handle_exception(IRQ4_VECTOR, uart_isr);
	handle_exception(PIT_VECTOR, pit_isr);
	pic_init(PIT_VECTOR, (1u << 0) | (1u << 4));
	pit_set_periodic(11932); /* 100 Hz: bounds the waits */

	outb(COM1 + SCR, 0x5a);
	report(inb(COM1 + SCR) == 0x5a, "scratch register keeps 0x5a");
	report((inb(COM1 + LSR) & 0x61) == 0x60, "LSR at rest: THRE and TEMT, no data");
	report(inb(COM1 + IIR) == 0xc1, "IIR at rest: FIFOs enabled, no interrupt pending (0xc1)");
	report(inb(COM1 + LCR) == 0x03, "LCR reads back 8N1");

	/* THR empty + ETBEI: one interrupt, acknowledged by the ISR's IIR read. */
	outb(COM1 + IER, 0x02);
	bool got = wait_until(&thr_irqs, 1, 100);
	u8 iir_seen = last_iir, iir_after = inb(COM1 + IIR);
	outb(COM1 + IER, 0x00);
	report(got && thr_irqs == 1, "THR-empty interrupt on enabling ETBEI (%d)", thr_irqs);
	report(iir_seen == 0xc2 && iir_after == 0xc1, "IIR reported THRI (0x%x), then no interrupt (0x%x)", iir_seen, iir_after);

	/* Loopback: what is sent is received, with received-data interrupts. */
	/* (Nothing may be printed in loopback: the console would come back as input.) */
	outb(COM1 + MCR, 0x1b);
	u8 msr = inb(COM1 + MSR) & 0xf0;
	outb(COM1 + 2, 0x07); /* FCR: FIFOs on, both cleared */
	rx_len = 0;
	outb(COM1 + IER, 0x01);
	outb(COM1 + THR, 'o');
	outb(COM1 + THR, 'k');
	wait_until(&rx_len, 2, 100);
	outb(COM1 + IER, 0x00);
	outb(COM1 + MCR, 0x0b);
	report(msr == 0xb0, "loopback MSR mirrors MCR: DCD DSR CTS (0x%x)", msr);
	report(rx_len == 2 && rx_buf[0] == 'o' && rx_buf[1] == 'k' && rx_irqs >= 1,
	       "loopback: 2 bytes back through RX interrupts (%d bytes, %d interrupts)", rx_len, rx_irqs);
	report(!(inb(COM1 + LSR) & 0x01) && inb(COM1 + IIR) == 0xc1, "RX drained: LSR.DR clear, no interrupt");

	/* Host input through RX interrupts. */
	rx_len = 0;
	rx_irqs = 0;
	printf("uart: ready for input\n");
	outb(COM1 + IER, 0x01);
	wait_until(&rx_len, 5, 1000);
	outb(COM1 + IER, 0x00);
	rx_buf[rx_len] = 0;
	report(rx_len == 5 && !memcmp((const char *)rx_buf, "kvmts", 5) && rx_irqs >= 1,
	       "host input through RX interrupts: '%s'", (const char *)rx_buf);
	report(other_irqs == 0, "no unexpected UART interrupts");
	return report_summary();
}
