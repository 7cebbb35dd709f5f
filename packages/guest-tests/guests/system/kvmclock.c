/*
 * KVM's paravirtual clock (Documentation/virt/kvm/x86/msr.rst): the "KVMKVMKVM" CPUID
 * leaves, MSR_KVM_SYSTEM_TIME_NEW pointing at a pvclock_vcpu_time_info this guest reads
 * with the version protocol (even = stable), time that never goes backwards across many
 * reads, agreement with the TSC at the frequency KVM's timing leaf 0x40000010 states, and
 * MSR_KVM_WALL_CLOCK_NEW's wall clock.
 */
#include "libc.h"
#include "x86/processor.h"

#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE2 3
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT 24

struct pvclock_vcpu_time_info {
	u32 version;
	u32 pad0;
	u64 tsc_timestamp;
	u64 system_time;
	u32 tsc_to_system_mul;
	s8 tsc_shift;
	u8 flags;
	u8 pad[2];
} __attribute__((packed));

struct pvclock_wall_clock {
	u32 version;
	u32 sec;
	u32 nsec;
} __attribute__((packed));

static volatile struct pvclock_vcpu_time_info ti __aligned(64);
static volatile struct pvclock_wall_clock wc __aligned(16);
static bool odd_seen;

/* pvclock_scale_delta: (delta << shift or >> -shift) * mul >> 32, in 64-bit pieces. */
static u64 scale_delta(u64 delta, u32 mul, s8 shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	u64 lo = (delta & 0xffffffff) * mul;
	u64 hi = (delta >> 32) * mul;
	return hi + (lo >> 32);
}

/* __pvclock_read_cycles under the version protocol. */
static u64 kvmclock_read(u64 *tsc_out)
{
	u32 v;
	u64 ns, tsc;
	do {
		v = ti.version;
		if (v & 1)
			odd_seen = true;
		barrier();
		tsc = rdtsc();
		ns = ti.system_time + scale_delta(tsc - ti.tsc_timestamp, ti.tsc_to_system_mul, ti.tsc_shift);
		barrier();
	} while ((v & 1) || v != ti.version);
	if (tsc_out)
		*tsc_out = tsc;
	return ns;
}

int main(void)
{
	struct cpuid c = cpuid(0x40000000);
	char sig[13];
	memcpy(sig, &c.b, 4);
	memcpy(sig + 4, &c.c, 4);
	memcpy(sig + 8, &c.d, 4);
	sig[12] = 0;
	report(!strcmp(sig, "KVMKVMKVM") && c.a >= 0x40000001, "CPUID 0x40000000: '%s'", sig);
	u32 feat = cpuid(0x40000001).a;
	report(feat & (1u << KVM_FEATURE_CLOCKSOURCE2), "KVM_FEATURE_CLOCKSOURCE2");
	report(feat & (1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT), "KVM_FEATURE_CLOCKSOURCE_STABLE_BIT");
	u32 tsc_khz = c.a >= 0x40000010 ? cpuid(0x40000010).a : 0;
	report(tsc_khz >= 1000000, "timing leaf: TSC at %u kHz", tsc_khz);

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (u64)(ulong)&ti | 1);
	report((ti.version & 1) == 0 && ti.version != 0, "pvclock version is even and set (%u)", ti.version);
	report(ti.tsc_to_system_mul != 0, "tsc_to_system_mul %u, tsc_shift %d", ti.tsc_to_system_mul, ti.tsc_shift);
	report(ti.flags & 1, "PVCLOCK_TSC_STABLE_BIT in flags");

	/* Monotonic over many reads, with work in between. */
	u64 first_tsc, last_tsc;
	u64 first = kvmclock_read(&first_tsc), prev = first, back = 0;
	for (int i = 0; i < 20000; i++) {
		u64 now = kvmclock_read(NULL);
		if (now < prev)
			back++;
		prev = now;
	}
	u64 last = kvmclock_read(&last_tsc);
	report(back == 0 && last > first, "20000 reads never went backwards (%llu ns elapsed)", (unsigned long long)(last - first));
	report(!odd_seen, "no read saw an update in progress");

	/* The clock agrees with the TSC at tsc_khz: ns = tsc * 1e6 / khz, within 0.1%. */
	u64 dtsc = last_tsc - first_tsc, dns = last - first;
	u64 expect_ns = dtsc * 1000000ull / tsc_khz;
	u64 diff = dns > expect_ns ? dns - expect_ns : expect_ns - dns;
	report(tsc_khz && diff * 1000 <= expect_ns + 1000, "kvmclock delta matches the TSC delta at %u kHz (%llu vs %llu ns)",
	       tsc_khz, (unsigned long long)dns, (unsigned long long)expect_ns);

	/* Disabling (bit 0 clear) stops updates; re-enabling bumps the version again. */
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	u32 v0 = ti.version;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (u64)(ulong)&ti | 1);
	report(ti.version != v0 && !(ti.version & 1), "re-enabling publishes a new even version");

	wrmsr(MSR_KVM_WALL_CLOCK_NEW, (u64)(ulong)&wc);
	report(!(wc.version & 1) && wc.sec > 1600000000u && wc.nsec < 1000000000u, "wall clock: %u s since the epoch at kvmclock 0", wc.sec);
	return report_summary();
}
