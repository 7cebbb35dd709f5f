/*
 * KVM hypercalls (Documentation/virt/kvm/x86/hypercalls.rst) round trip: the native
 * instruction (VMCALL on Intel, VMMCALL on AMD) and the other vendor's, which KVM patches
 * in guest memory into the native one (so a guest image runs on either). Calls:
 * KVM_HC_SEND_IPI (an IPI to the AP, returning how many were sent), KVM_HC_KICK_CPU (wakes
 * the AP from HLT with interrupts off: PV unhalt), KVM_HC_VAPIC_POLL_IRQ, and an unknown
 * number (-KVM_ENOSYS).
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"
#include "x86/smp.h"

#define KVM_HC_VAPIC_POLL_IRQ 1
#define KVM_HC_KICK_CPU 5
#define KVM_HC_SEND_IPI 10
#define KVM_ENOSYS 1000
#define KVM_FEATURE_PV_UNHALT 7
#define KVM_FEATURE_PV_SEND_IPI 11
#define IPI_VECTOR 0x60

static volatile int ipis, ap_ready, ap_woken, ap_phase;

/* Each call site is its own code so its bytes can be checked after patching. */
#define HYPERCALL(name, insn)                                                                  \
	extern const u8 name##_site[];                                                          \
	static long name(long nr, long a0, long a1, long a2, long a3)                          \
	{                                                                                      \
		long ret;                                                                      \
		asm volatile(".globl " #name "_site\n" #name "_site: " insn                      \
			     : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3) : "memory"); \
		return ret;                                                                    \
	}
HYPERCALL(hc_vmcall, "vmcall")
HYPERCALL(hc_vmmcall, "vmmcall")
HYPERCALL(hc_vmcall2, "vmcall")
HYPERCALL(hc_vmmcall2, "vmmcall")

static void ipi_isr(struct ex_regs *regs)
{
	(void)regs;
	ipis++;
	apic_eoi();
}

static void ap_main(int apic_id)
{
	(void)apic_id;
	apic_enable();
	ap_ready = 1;
	/* Phase 1: take the IPI with interrupts on. */
	while (ap_phase < 1)
		safe_halt();
	irq_disable();
	/* Phase 2: HLT with interrupts off: only a PV kick (KVM_HC_KICK_CPU) wakes it. */
	__atomic_store_n(&ap_ready, 2, __ATOMIC_SEQ_CST);
	asm volatile("hlt" ::: "memory");
	ap_woken = 1;
	for (;;)
		asm volatile("cli; hlt");
}

static bool is_vmcall(const u8 *p) { return p[0] == 0x0f && p[1] == 0x01 && p[2] == 0xc1; }
static bool is_vmmcall(const u8 *p) { return p[0] == 0x0f && p[1] == 0x01 && p[2] == 0xd9; }

int main(void)
{
	struct cpuid v = cpuid(0);
	bool intel = v.b == 0x756e6547; /* "Genu" */
	printf("vendor: %s\n", intel ? "Intel (native VMCALL)" : "AMD (native VMMCALL)");
	u32 feat = cpuid(0x40000001).a;
	report(feat & (1u << KVM_FEATURE_PV_SEND_IPI), "KVM_FEATURE_PV_SEND_IPI");
	report(feat & (1u << KVM_FEATURE_PV_UNHALT), "KVM_FEATURE_PV_UNHALT");

	/* Native instruction: an unknown call and VAPIC_POLL_IRQ. */
	long (*native)(long, long, long, long, long) = intel ? hc_vmcall : hc_vmmcall;
	long (*foreign)(long, long, long, long, long) = intel ? hc_vmmcall2 : hc_vmcall2;
	const u8 *foreign_site = intel ? hc_vmmcall2_site : hc_vmcall2_site;
	report(native(0x7fff, 0, 0, 0, 0) == -KVM_ENOSYS, "unknown hypercall: -KVM_ENOSYS");
	report(native(KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0) == 0, "KVM_HC_VAPIC_POLL_IRQ returns 0");

	/* The other vendor's instruction works too, and is rewritten into the native one. */
	report(intel ? is_vmmcall(foreign_site) : is_vmcall(foreign_site), "the foreign call site holds %s before", intel ? "VMMCALL" : "VMCALL");
	report(foreign(0x7fff, 0, 0, 0, 0) == -KVM_ENOSYS, "the foreign instruction returns the same answer");
	report(intel ? is_vmcall(foreign_site) : is_vmmcall(foreign_site), "KVM patched the site to %s", intel ? "VMCALL" : "VMMCALL");
	report(foreign(KVM_HC_VAPIC_POLL_IRQ, 0, 0, 0, 0) == 0, "the patched site keeps working");

	/* KVM_HC_SEND_IPI: bitmap of APIC IDs from min (rdx), ICR low in rsi (fixed, vector). */
	handle_exception(IPI_VECTOR, ipi_isr);
	apic_enable();
	int up = smp_init(ap_main, 1);
	report(up == 1, "the AP came up");
	while (!ap_ready)
		cpu_relax();
	long sent = native(KVM_HC_SEND_IPI, 0x2, 0, 0, IPI_VECTOR);
	for (long i = 0; i < 100000000 && !ipis; i++)
		cpu_relax();
	report(sent == 1 && ipis == 1, "KVM_HC_SEND_IPI to APIC 1: %ld sent, the AP took %d", sent, ipis);

	/* KVM_HC_KICK_CPU: the AP halted with IF=0 runs on. */
	ap_phase = 1;
	apic_icr_write(APIC_DM_FIXED | IPI_VECTOR, 1); /* wake it from its STI;HLT to enter phase 2 */
	while (__atomic_load_n(&ap_ready, __ATOMIC_SEQ_CST) != 2)
		cpu_relax();
	for (volatile int i = 0; i < 200000; i++)
		; /* let it reach the HLT */
	bool slept = !ap_woken;
	report(native(KVM_HC_KICK_CPU, 0, 1, 0, 0) == 0, "KVM_HC_KICK_CPU returns 0");
	for (long i = 0; i < 100000000 && !ap_woken; i++)
		cpu_relax();
	report(slept && ap_woken, "the kick woke the AP from HLT with interrupts off");
	(void)hc_vmcall2;
	(void)hc_vmmcall2;
	return report_summary();
}
