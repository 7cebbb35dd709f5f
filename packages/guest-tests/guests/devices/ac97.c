/*
 * The Intel AC'97 controller (PCI 8086:2415) driven directly: find it, enable I/O and bus
 * mastering, reset the codec, unmute, optionally enable variable rate audio (rate=HZ on
 * the command line; default 48000 without VRA), then play a 440 Hz sine for ms=N
 * milliseconds (default 500) through a buffer descriptor list of 10 ms buffers (longer past 32 of them) with
 * interrupt-on-completion, taking the controller's INTx through the 8259 PIC, until the
 * last valid buffer completes. The test checks the WAV the audiodev wrote: its header,
 * its length (exactly rate * ms / 1000 frames) and its dominant frequency.
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"
#include "x86/processor.h"
#include "x86/setup.h"
#include "pci-conf.h"

#define NAM_RESET 0x00
#define NAM_MASTER 0x02
#define NAM_PCM_OUT 0x18
#define NAM_EXT_ID 0x28
#define NAM_EXT_CTRL 0x2a
#define NAM_FRONT_RATE 0x2c
#define NAM_VENDOR1 0x7c
#define PO 0x10
#define BDBAR 0x00
#define CIV 0x04
#define LVI 0x05
#define SR 0x06
#define PICB 0x08
#define CR 0x0b
#define GLOB_CNT 0x2c
#define GLOB_STA 0x30
#define SR_DCH 0x01
#define SR_CELV 0x02
#define SR_LVBCI 0x04
#define SR_BCIS 0x08
#define CR_RPBM 0x01
#define CR_RR 0x02
#define CR_LVBIE 0x04
#define CR_IOCE 0x10
#define GS_S0CR (1u << 8)
#define GS_POINT (1u << 6)
#define BD_IOC 0x80000000u
#define PIC_VECTOR 0x20

#define MAX_MS 2000
#define MAX_FRAMES (48000 * MAX_MS / 1000)

struct bd {
	u32 addr;
	u32 ctl_len;
};
static struct bd bdl[32] __attribute__((aligned(8)));
static s16 pcm[MAX_FRAMES * 2] __attribute__((aligned(16)));
static s32 sine[1024];
static u16 nabm;
static volatile int irqs, bcis, lvbci;
static int irq;

/* sin(2 pi i / 1024) in Q15 by a Taylor series in Q30 integer arithmetic (no FPU here). */
static void make_sine_table(void)
{
	const s64 half_pi_q30 = 1686629713; /* pi/2 * 2^30 */
	for (int i = 0; i <= 256; i++) {
		s64 x = half_pi_q30 * i / 256, x2 = (x * x) >> 30, term = x, sum = x;
		for (int k = 1; k <= 6; k++) {
			term = -((term * x2) >> 30) / ((2 * k) * (2 * k + 1));
			sum += term;
		}
		s32 v = (s32)((sum * 32767) >> 30);
		sine[i] = v;
		sine[512 - i] = v;
		sine[(512 + i) & 1023] = -v;
		sine[(1024 - i) & 1023] = -v;
	}
}

static void ac97_isr(struct ex_regs *regs)
{
	(void)regs;
	irqs++;
	u8 sr = inb(nabm + PO + SR);
	if (sr & SR_BCIS)
		bcis++;
	if (sr & SR_LVBCI)
		lvbci++;
	outb(nabm + PO + SR, sr & (SR_LVBCI | SR_BCIS));
	pic_eoi(irq);
}

int main(void)
{
	const char *cmdline = multiboot_info->cmdline ? (const char *)(ulong)multiboot_info->cmdline : "";
	u32 rate = cmdline_uint(cmdline, "rate", 0);
	u32 ms = cmdline_uint(cmdline, "ms", 500);
	if (ms > MAX_MS)
		ms = MAX_MS;
	int dev = pci_find(0x8086, 0x2415);
	report(dev >= 0, "AC'97 8086:2415 found at 00:%02x.0", dev);
	if (dev < 0)
		return report_summary();
	u32 class = pci_conf_read(dev, 0, 0x08) >> 8;
	report(class == 0x040100, "class code %06x (multimedia audio)", class);
	u16 nam = pci_conf_read(dev, 0, 0x10) & ~3u;
	nabm = pci_conf_read(dev, 0, 0x14) & ~3u;
	irq = pci_conf_read(dev, 0, 0x3c) & 0xff;
	report((pci_conf_read(dev, 0, 0x3c) >> 8 & 0xff) == 1, "interrupt pin INTA, line %d", irq);
	pci_conf_write(dev, 0, 0x04, pci_conf_read(dev, 0, 0x04) | 0x5); /* I/O + bus master */

	/* AC-link cold reset, then wait for the primary codec. */
	outl(nabm + GLOB_CNT, 0x2);
	int tries = 0;
	while (!(inl(nabm + GLOB_STA) & GS_S0CR) && ++tries < 100000)
		cpu_relax();
	report(inl(nabm + GLOB_STA) & GS_S0CR, "primary codec ready");
	outw(nam + NAM_RESET, 0);
	report(inw(nam + NAM_VENDOR1) == 0x8384, "codec vendor id %04x (SigmaTel)", inw(nam + NAM_VENDOR1));
	outw(nam + NAM_MASTER, 0x0000);
	outw(nam + NAM_PCM_OUT, 0x0808);
	report(inw(nam + NAM_PCM_OUT) == 0x0808, "PCM out volume 0 dB, unmuted");
	if (rate) {
		report(inw(nam + NAM_EXT_ID) & 1, "codec has variable rate audio");
		outw(nam + NAM_EXT_CTRL, inw(nam + NAM_EXT_CTRL) | 1);
		outw(nam + NAM_FRONT_RATE, (u16)rate);
	}
	rate = inw(nam + NAM_FRONT_RATE);
	printf("DAC rate %u Hz\n", rate);

	/* 440 Hz through a 32-bit phase accumulator; both channels. */
	make_sine_table();
	u32 frames = rate * ms / 1000;
	if (frames > MAX_FRAMES)
		frames = MAX_FRAMES;
	u32 phase = 0, inc = (u32)((440ull << 32) / rate);
	for (u32 i = 0; i < frames; i++) {
		s16 v = (s16)(sine[phase >> 22] / 2);
		pcm[2 * i] = v;
		pcm[2 * i + 1] = v;
		phase += inc;
	}
	/* 10 ms buffers, longer when 32 of them cannot hold it all (the last one shorter); lengths are in samples. */
	u32 per = rate / 100, nbuf = 0;
	if (per * 32 < frames)
		per = (frames + 31) / 32;
	for (u32 f = 0; f < frames && nbuf < 32; f += per, nbuf++) {
		u32 n = frames - f < per ? frames - f : per;
		bdl[nbuf].addr = (u32)(ulong)&pcm[2 * f];
		bdl[nbuf].ctl_len = BD_IOC | (n * 2);
	}
	report((nbuf - 1) * per < frames && nbuf * per >= frames, "%u frames in %u buffers of %u", frames, nbuf, per);

	handle_exception(PIC_VECTOR + irq, ac97_isr);
	pic_init(PIC_VECTOR, (u16)(1u << irq | (irq >= 8 ? 1u << 2 : 0)));

	outb(nabm + PO + CR, CR_RR);
	report(inb(nabm + PO + SR) & SR_DCH, "PCM out halted after reset");
	outl(nabm + PO + BDBAR, (u32)(ulong)bdl);
	outb(nabm + PO + LVI, (u8)(nbuf - 1));
	outb(nabm + PO + CR, CR_RPBM | CR_IOCE | CR_LVBIE);
	report(!(inb(nabm + PO + SR) & SR_DCH), "PCM out running");
	u64 start = rdtsc();
	while (!lvbci) {
		safe_halt();
		irq_disable();
		if (rdtsc() - start > 200000000000ull)
			break;
	}
	report(lvbci == 1, "last valid buffer completion interrupt");
	report(irqs >= 1 && bcis >= 1, "%d interrupts, %d with buffer completion", irqs, bcis);
	report(inb(nabm + PO + CIV) == nbuf - 1, "CIV reached LVI (%u)", inb(nabm + PO + CIV));
	report(inb(nabm + PO + SR) & SR_DCH, "controller halted at the end of the list");
	report(inw(nabm + PO + PICB) == 0, "nothing left in the last buffer");
	report(inl(nabm + GLOB_STA) & GS_S0CR, "global status still shows the codec ready");
	outb(nabm + PO + CR, 0);
	printf("played %u ms at %u Hz\n", ms, rate);
	return report_summary();
}
