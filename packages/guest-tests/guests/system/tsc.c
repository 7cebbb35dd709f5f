/*
 * The TSC as KVM describes and keeps it (SDM vol. 3 17.17, KVM's cpuid.rst):
 *  - its frequency in KVM's leaf 0x40000010 (EAX kHz), in leaf 0x15 (crystal Hz x
 *    EBX/EAX) and leaf 0x16 (base MHz), all agreeing, and agreeing with a measurement
 *    against the PIT (channel 2 gated through port 0x61, as Linux's pit_calibrate_tsc);
 *  - IA32_TSC_ADJUST: adding to it moves the TSC by the same amount, and a WRMSR to
 *    IA32_TIME_STAMP_COUNTER moves TSC_ADJUST by what it added;
 *  - IA32_TSC_AUX as RDTSCP returns it in ECX.
 */
#include "libc.h"
#include "x86/processor.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_TSC_ADJUST 0x3b
#define MSR_TSC_AUX 0xc0000103
#define PIT_TICK_RATE 1193182u

static s64 sabs(s64 v) { return v < 0 ? -v : v; }

/* TSC ticks while PIT channel 2 counts down `ticks` (mode 0, gate on, speaker off). */
static u64 tsc_over_pit(u16 ticks)
{
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0 */
	outb(0x42, ticks & 0xff);
	outb(0x42, ticks >> 8);
	u64 t0 = rdtsc();
	/* OUT2 goes high at terminal count; poll it every few hundred instructions (an IN is an exit). */
	while (!(inb(0x61) & 0x20))
		for (int i = 0; i < 100; i++)
			barrier();
	return rdtsc() - t0;
}

static inline u64 rdtscp(u32 *aux)
{
	u32 lo, hi;
	asm volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(*aux));
	return ((u64)hi << 32) | lo;
}

int main(void)
{
	u32 hv_max = cpuid(0x40000000).a;
	report(hv_max >= 0x40000010, "KVM's leaves reach 0x40000010 (%x)", hv_max);
	u32 tsc_khz = cpuid(0x40000010).a;
	printf("tsc: 0x40000010 says %u kHz\n", tsc_khz);
	report(tsc_khz > 0, "0x40000010.EAX: TSC frequency in kHz");

	/* Intel CPUs describe the TSC in leaves 0x15/0x16; AMD CPUs have neither (max leaf 0xd). */
	struct cpuid v = cpuid(0);
	bool intel = v.b == 0x756e6547; /* "Genu" */
	if (intel) {
		struct cpuid l15 = cpuid(0x15), l16 = cpuid(0x16);
		u64 hz15 = l15.a ? (u64)l15.c * l15.b / l15.a : 0;
		report(v.a >= 0x16, "Intel: basic leaves reach 0x16 (%x)", v.a);
		report(hz15 / 1000 == tsc_khz, "Intel: leaf 0x15: crystal %u Hz x %u/%u = TSC kHz", l15.c, l15.b, l15.a);
		report(l16.a == tsc_khz / 1000, "Intel: leaf 0x16: base %u MHz", l16.a);
	} else {
		report(v.a < 0x15, "AMD: no leaves 0x15/0x16 (max basic leaf %x)", v.a);
	}

	/*
	 * 10 ms of PIT: the TSC must advance by tsc_khz * 10 within 1 %. The manifest runs
	 * this guest on the virtual clock (-icount), where a host that preempts the VMM
	 * between OUT2 rising and the RDTSC cannot stretch the interval.
	 */
	u16 ticks = (u16)(PIT_TICK_RATE / 100);
	u64 measured = tsc_over_pit(ticks);
	u64 want = (u64)tsc_khz * 10;
	report(sabs((s64)(measured - want)) * 100 < (s64)want, "TSC over 10 ms of PIT matches the advertised rate (%u per ms)", (u32)(measured / 10));

	if (cpuid(7).b & (1u << 1)) {
		u64 adj0 = rdmsr(MSR_IA32_TSC_ADJUST);
		report(adj0 == 0, "TSC_ADJUST starts at 0");
		u64 t0 = rdtsc();
		wrmsr(MSR_IA32_TSC_ADJUST, 1ull << 40);
		u64 t1 = rdtsc();
		report(t1 - t0 >= (1ull << 40) && t1 - t0 < (1ull << 40) + 100000000ull, "adding 2^40 to TSC_ADJUST moved the TSC by 2^40");
		u64 before = rdtsc();
		wrmsr(MSR_IA32_TSC, 1000000);
		u64 adj = rdmsr(MSR_IA32_TSC_ADJUST);
		/* TSC went from `before` (+ a few instructions) to 1000000: TSC_ADJUST by the same. */
		s64 expect_adj = (s64)(1ull << 40) + (1000000 - (s64)before);
		report(sabs((s64)adj - expect_adj) < 100000000, "WRMSR IA32_TSC moved TSC_ADJUST by what it added");
		report(rdtsc() < 1000000 + 1000000000ull, "the TSC runs on from the written value");
	} else {
		report(false, "CPUID.7:EBX.TSC_ADJUST");
	}

	if (cpuid(0x80000001).d & (1u << 27)) {
		u32 aux = 0;
		wrmsr(MSR_TSC_AUX, 0x2a);
		rdtscp(&aux);
		report(aux == 0x2a && rdmsr(MSR_TSC_AUX) == 0x2a, "RDTSCP returns TSC_AUX in ECX (%x)", aux);
	} else {
		report(false, "CPUID.80000001:EDX.RDTSCP");
	}
	return report_summary();
}
