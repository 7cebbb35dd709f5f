/*
 * KVM steal time (MSR_KVM_STEAL_TIME, Documentation/virt/kvm/x86/msr.rst): the BSP
 * registers its struct kvm_steal_time and watches `steal` while it spins. The VMM runs
 * its vCPUs one time slice after the other: with the AP spinning too, half of the BSP's
 * elapsed time is spent waiting for the AP's slices (stolen); with the AP halted, none.
 * The manifest runs it on the virtual clock (-icount shift=3: 8 ns per instruction), so
 * the split is exact; on host time a loaded host stretches the gaps at random.
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/smp.h"

#define MSR_KVM_STEAL_TIME 0x4b564d03
#define KVM_FEATURE_STEAL_TIME 5
#define KVM_MSR_ENABLED 1
#define TSC_MS 2000000ull /* TSC ticks per ms at KVM's default 2 GHz (0x40000010 says) */

struct kvm_steal_time {
	u64 steal;
	u32 version;
	u32 flags;
	u8 preempted;
	u8 u8_pad[3];
	u32 pad[11];
};

static struct kvm_steal_time st __aligned(64);
static volatile int ap_spin = 1, ap_ready;

static void ap_main(int apic_id)
{
	(void)apic_id;
	ap_ready = 1;
	while (__atomic_load_n(&ap_spin, __ATOMIC_SEQ_CST))
		barrier(); /* no PAUSE: a plain loop never exits to the hypervisor */
	for (;;)
		asm volatile("cli; hlt");
}

/* A consistent read of `steal` (the version protocol of pvclock). */
static u64 read_steal(void)
{
	u32 v;
	u64 s;
	do {
		v = __atomic_load_n(&st.version, __ATOMIC_ACQUIRE);
		s = __atomic_load_n(&st.steal, __ATOMIC_ACQUIRE);
	} while ((v & 1) || v != __atomic_load_n(&st.version, __ATOMIC_ACQUIRE));
	return s;
}

/* Spins `ms` of TSC time; returns the steal time in per mille of the elapsed time. */
static u32 steal_permille(u64 ms)
{
	u32 khz = cpuid(0x40000010).a;
	u64 s0 = read_steal(), t0 = rdtsc();
	/* RDTSC only every few hundred instructions: on the virtual clock each one exits. */
	while (rdtsc() - t0 < ms * TSC_MS)
		for (int i = 0; i < 200; i++)
			barrier();
	u64 ns = (rdtsc() - t0) * 1000000ull / khz;
	u64 stolen = read_steal() - s0;
	printf("steal-time: %llu ns stolen of %llu ns\n", (unsigned long long)stolen, (unsigned long long)ns);
	return (u32)(stolen * 1000 / ns);
}

int main(void)
{
	report(cpuid(0x40000001).a & (1u << KVM_FEATURE_STEAL_TIME), "KVM_FEATURE_STEAL_TIME");
	wrmsr(MSR_KVM_STEAL_TIME, (u64)(ulong)&st | KVM_MSR_ENABLED);
	report(rdmsr(MSR_KVM_STEAL_TIME) == ((u64)(ulong)&st | KVM_MSR_ENABLED), "MSR_KVM_STEAL_TIME reads back");
	int up = smp_init(ap_main, 1);
	report(up == 1, "the AP came up");
	while (!ap_ready)
		cpu_relax();

	/* 20 ms: two of the VMM's 10 ms time slices each. */
	u32 busy = steal_permille(20);
	report(busy >= 450 && busy <= 550, "with the AP spinning, half the time was stolen (%u per mille)", busy);
	__atomic_store_n(&ap_spin, 0, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 100000; i++)
		cpu_relax(); /* the AP reaches its HLT */
	u32 idle = steal_permille(10);
	report(idle == 0, "with the AP halted, nothing was stolen (%u per mille)", idle);
	report(!(st.version & 1) && st.preempted == 0, "version even, preempted clear while running");
	return report_summary();
}
