/*
 * Inter-processor interrupts on 4 CPUs (SDM vol. 3 10.6, 10.12.9): fixed IPIs by
 * physical and logical destination (flat and cluster DFR models), the broadcast
 * destination, the three shorthands (self, all including self, all excluding self),
 * lowest priority and NMI. Every CPU counts what it takes per vector (and NMIs in its
 * #NMI handler); after each send the BSP fences each AP (a lower-priority IPI that the
 * AP can only take after the test vector) and prints one line "name: n0 n1 n2 n3" with
 * the counts of CPUs 0-3.
 *
 * The IOAPIC takes the same destinations (pin 14, pulsed through pc-testdev's ISA line
 * ports): fixed to physical and logical (flat, cluster) destinations, lowest priority.
 *
 * With "x2apic" on the command line every CPU switches to x2APIC mode and the IPIs go
 * through the ICR MSR 0x830 (32-bit destinations, logical = cluster << 16 | bit of the
 * derived LDR, broadcast 0xffffffff) and the SELF_IPI MSR 0x83f.
 *
 * Lowest priority: the arbitration is model specific (QEMU's TCG takes the lowest APIC
 * ID; KVM picks by arbitration priority or vector hash), so the check is that exactly
 * one CPU of the destination set took it.
 */
#include "libc.h"
#include "x86/apic.h"
#include "x86/desc.h"
#include "x86/setup.h"
#include "x86/smp.h"

#define NCPUS 4
#define SERVICE_VECTOR 0x40 /* doorbell and fence: class 4, below every test vector */
#define TEST_VECTOR_BASE 0x80
#define NTEST_VECTORS 32
#define APIC_DEST_LOGICAL 0x800
#define APIC_DM_LOWEST 0x100
#define APIC_LDR 0xd0
#define APIC_DFR 0xe0
#define APIC_DFR_FLAT 0xffffffffu
#define APIC_DFR_CLUSTER 0x0fffffffu
#define MSR_X2APIC_BASE 0x800
#define MSR_X2APIC_ICR 0x830
#define MSR_X2APIC_SELF_IPI 0x83f
#define APICBASE_EXTD (1u << 10)
#define APICBASE_EN (1u << 11)

enum { CMD_NONE, CMD_FLAT, CMD_CLUSTER, CMD_X2APIC };

static volatile int counts[NCPUS][NTEST_VECTORS];
static volatile int nmis[NCPUS];
static volatile int service[NCPUS];
static volatile int cmd, cmd_seq, cmd_ack[NCPUS];

/* Each CPU asks its own IA32_APICBASE: the CPUs switch to x2APIC one after the other. */
static bool x2apic_mode(void)
{
	return (rdmsr(MSR_IA32_APICBASE) & APICBASE_EXTD) != 0;
}

static u32 lapic_read(u32 reg)
{
	return x2apic_mode() ? (u32)rdmsr(MSR_X2APIC_BASE + (reg >> 4)) : apic_read(reg);
}

static void lapic_write(u32 reg, u32 v)
{
	if (x2apic_mode())
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), v);
	else
		apic_write(reg, v);
}

static int my_id(void)
{
	return (int)(x2apic_mode() ? lapic_read(APIC_ID) : apic_id());
}

static void eoi(void)
{
	lapic_write(APIC_EOI, 0);
}

/* One ICR write: xAPIC ICR2 then ICR (waiting for the send), or one x2APIC MSR write. */
static void send_ipi(u32 icr_lo, u32 dest)
{
	if (x2apic_mode()) {
		wrmsr(MSR_X2APIC_ICR, ((u64)dest << 32) | icr_lo);
		return;
	}
	apic_write(APIC_ICR2, dest << 24);
	apic_write(APIC_ICR, icr_lo);
	while (apic_read(APIC_ICR) & APIC_ICR_BUSY)
		cpu_relax();
}

static void test_isr(struct ex_regs *regs)
{
	counts[my_id()][regs->vector - TEST_VECTOR_BASE]++;
	eoi();
}

static void nmi_isr(struct ex_regs *regs)
{
	(void)regs;
	nmis[my_id()]++;
}

static void do_cmd(int c, int id)
{
	switch (c) {
	case CMD_FLAT: /* one bit per CPU in the logical ID */
		apic_write(APIC_DFR, APIC_DFR_FLAT);
		apic_write(APIC_LDR, (1u << id) << 24);
		break;
	case CMD_CLUSTER: /* clusters 1 (CPUs 0, 1) and 2 (CPUs 2, 3), member bits 1 and 2 */
		apic_write(APIC_DFR, APIC_DFR_CLUSTER);
		apic_write(APIC_LDR, ((u32)((1 + id / 2) << 4) | (1u << (id % 2))) << 24);
		break;
	case CMD_X2APIC: /* EN stays set; EXTD switches the mode (SDM 10.12.5) */
		wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) | APICBASE_EN | APICBASE_EXTD);
		break;
	}
}

static void service_isr(struct ex_regs *regs)
{
	(void)regs;
	service[my_id()]++;
	eoi();
}

/* The AP's loop: run the BSP's commands, sleep with interrupts on in between. */
static void ap_main(int apic_id)
{
	int seen = 0;
	lapic_write(APIC_SPIV, APIC_SPIV_APIC_ENABLED | 0xff);
	do_cmd(CMD_FLAT, apic_id);
	__atomic_store_n(&cmd_ack[apic_id], 0, __ATOMIC_SEQ_CST);
	for (;;) {
		irq_disable();
		int seq = __atomic_load_n(&cmd_seq, __ATOMIC_SEQ_CST);
		if (seq != seen) {
			seen = seq;
			do_cmd(cmd, apic_id);
			__atomic_store_n(&cmd_ack[apic_id], seq, __ATOMIC_SEQ_CST);
		}
		safe_halt();
	}
}

/* Waits with interrupts on (so the BSP takes its own IPIs) until *v reaches n. */
static bool wait_until(volatile int *v, int n)
{
	for (long i = 0; i < 200000000; i++) {
		if (*v >= n)
			return true;
		irq_enable();
		cpu_relax();
		irq_disable();
	}
	return false;
}

/* Every AP has taken a service IPI sent after the test vector: its deliveries are counted. */
static void fence(void)
{
	irq_enable();
	for (int i = 0; i < 100; i++)
		cpu_relax();
	irq_disable();
	for (int id = 1; id < NCPUS; id++) {
		int before = service[id];
		send_ipi(APIC_DM_FIXED | APIC_INT_ASSERT | SERVICE_VECTOR, (u32)id);
		if (!wait_until(&service[id], before + 1))
			report(false, "CPU %d took no service IPI", id);
	}
}

static void run_cmd(int c)
{
	cmd = c;
	int seq = __atomic_add_fetch(&cmd_seq, 1, __ATOMIC_SEQ_CST);
	do_cmd(c, 0);
	fence();
	for (int id = 1; id < NCPUS; id++)
		if (!wait_until(&cmd_ack[id], seq))
			report(false, "CPU %d did not run command %d", id, c);
}

static void zero_counts(void)
{
	for (int id = 0; id < NCPUS; id++) {
		nmis[id] = 0;
		for (int v = 0; v < NTEST_VECTORS; v++)
			counts[id][v] = 0;
	}
}

/* Prints "name: n0 n1 n2 n3" and checks it against want (a -1 entry: "any"). */
static void check(const char *name, const volatile int *got0, int stride, const int want[NCPUS])
{
	int got[NCPUS];
	bool ok = true;
	for (int id = 0; id < NCPUS; id++) {
		got[id] = got0[id * stride];
		if (want[id] >= 0 && got[id] != want[id])
			ok = false;
	}
	printf("%s: %d %d %d %d\n", name, got[0], got[1], got[2], got[3]);
	report(ok, "%s", name);
}

static int next_vector;

/* Sends one fixed or lowest-priority IPI with a fresh vector and checks who took it. */
static void ipi_case(const char *name, u32 icr_lo, u32 dest, const int want[NCPUS])
{
	int v = next_vector++;
	zero_counts();
	send_ipi(icr_lo | APIC_INT_ASSERT | (TEST_VECTOR_BASE + v), dest);
	fence();
	check(name, &counts[0][v], NTEST_VECTORS, want);
}

static void nmi_case(const char *name, u32 icr_lo, u32 dest, const int want[NCPUS])
{
	zero_counts();
	send_ipi(icr_lo | APIC_DM_NMI | APIC_INT_ASSERT, dest);
	fence();
	check(name, nmis, 1, want);
}

/* Lowest priority to a set: exactly one CPU of it takes the interrupt. */
static void lowest_case(const char *name, u32 icr_lo, u32 dest, u32 set)
{
	int v = next_vector++;
	zero_counts();
	send_ipi(icr_lo | APIC_DM_LOWEST | APIC_INT_ASSERT | (TEST_VECTOR_BASE + v), dest);
	fence();
	int total = 0, outside = 0;
	for (int id = 0; id < NCPUS; id++) {
		total += counts[id][v];
		if (!(set & (1u << id)))
			outside += counts[id][v];
	}
	printf("%s: %d delivery, %d outside the set\n", name, total, outside);
	report(total == 1 && outside == 0, "%s", name);
}

/*
 * The same destinations through the IOAPIC: ISA line 14 pulsed by pc-testdev (an edge on
 * pin 14), the redirection entry in fixed or lowest-priority mode, physical or logical.
 */
#define IOAPIC_PIN 14
static void ioapic_pulse(u32 lo, u32 dest)
{
	ioapic_write(0x11 + IOAPIC_PIN * 2, dest << 24);
	ioapic_write(0x10 + IOAPIC_PIN * 2, lo);
	outb(0x2000 + IOAPIC_PIN, 1);
	outb(0x2000 + IOAPIC_PIN, 0);
	fence();
	ioapic_write(0x10 + IOAPIC_PIN * 2, 1u << 16);
}

static void ioapic_case(const char *name, u32 lo, u32 dest, const int want[NCPUS])
{
	int v = next_vector++;
	zero_counts();
	ioapic_pulse(lo | (TEST_VECTOR_BASE + v), dest);
	check(name, &counts[0][v], NTEST_VECTORS, want);
}

static void ioapic_lowest_case(const char *name, u32 dest, u32 set)
{
	int v = next_vector++;
	zero_counts();
	ioapic_pulse(APIC_DM_LOWEST | APIC_DEST_LOGICAL | (TEST_VECTOR_BASE + v), dest);
	int total = 0, outside = 0;
	for (int id = 0; id < NCPUS; id++) {
		total += counts[id][v];
		if (!(set & (1u << id)))
			outside += counts[id][v];
	}
	printf("%s: %d delivery, %d outside the set\n", name, total, outside);
	report(total == 1 && outside == 0, "%s", name);
}

static bool cmdline_has(const char *word)
{
	const char *s = multiboot_info->cmdline ? (const char *)(ulong)multiboot_info->cmdline : "";
	size_t n = strlen(word);
	for (const char *p = s; *p; p++)
		if ((p == s || p[-1] == ' ') && !strncmp(p, word, n) && (p[n] == 0 || p[n] == ' '))
			return true;
	return false;
}

#define W(a, b, c, d) ((const int[NCPUS]){ a, b, c, d })

int main(void)
{
	bool want_x2apic = cmdline_has("x2apic");
	for (int v = 0; v < NTEST_VECTORS; v++)
		handle_exception(TEST_VECTOR_BASE + v, test_isr);
	handle_exception(SERVICE_VECTOR, service_isr);
	handle_exception(NMI_VECTOR, nmi_isr);
	apic_enable();
	do_cmd(CMD_FLAT, 0);
	int up = smp_init(ap_main, NCPUS - 1);
	report(up == NCPUS - 1, "%d APs came up", up);

	if (want_x2apic) {
		if (!(cpuid(1).c & (1u << 21))) {
			report(false, "x2APIC in CPUID.1:ECX");
			return report_summary();
		}
		run_cmd(CMD_X2APIC); /* the BSP first, then each AP on its doorbell */
		report(x2apic_mode(), "x2APIC mode");
		printf("x2APIC: IDs 0-3, LDR of CPU 0 %x\n", lapic_read(APIC_LDR));

		ipi_case("x2apic fixed physical 2", APIC_DM_FIXED, 2, W(0, 0, 1, 0));
		ipi_case("x2apic fixed physical 0 (self by ID)", APIC_DM_FIXED, 0, W(1, 0, 0, 0));
		ipi_case("x2apic fixed logical cluster 0 bits 1,3", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x0000000a, W(0, 1, 0, 1));
		ipi_case("x2apic fixed logical cluster 1 (empty)", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x00010001, W(0, 0, 0, 0));
		ipi_case("x2apic fixed broadcast ffffffff", APIC_DM_FIXED, 0xffffffffu, W(1, 1, 1, 1));
		ipi_case("x2apic fixed physical ff (not a broadcast)", APIC_DM_FIXED, 0xff, W(0, 0, 0, 0));
		ipi_case("x2apic shorthand self", APIC_DM_FIXED | APIC_DEST_SELF, 0, W(1, 0, 0, 0));
		ipi_case("x2apic shorthand all including self", APIC_DM_FIXED | APIC_DEST_ALLINC, 0, W(1, 1, 1, 1));
		ipi_case("x2apic shorthand all excluding self", APIC_DM_FIXED | APIC_DEST_ALLBUT, 0, W(0, 1, 1, 1));
		{
			int v = next_vector++;
			zero_counts();
			wrmsr(MSR_X2APIC_SELF_IPI, TEST_VECTOR_BASE + v);
			fence();
			check("x2apic SELF_IPI MSR", &counts[0][v], NTEST_VECTORS, W(1, 0, 0, 0));
		}
		lowest_case("x2apic lowest priority logical 0x0e", APIC_DEST_LOGICAL, 0x0000000e, 0xe);
		nmi_case("x2apic NMI physical 3", 0, 3, W(0, 0, 0, 1));
		nmi_case("x2apic NMI all excluding self", APIC_DEST_ALLBUT, 0, W(0, 1, 1, 1));
		nmi_case("x2apic NMI logical cluster 0 bits 1,2", APIC_DEST_LOGICAL, 0x00000006, W(0, 1, 1, 0));
		return report_summary();
	}

	/* Physical destinations: an APIC ID, our own ID, 0xff (broadcast). */
	ipi_case("fixed physical 2", APIC_DM_FIXED, 2, W(0, 0, 1, 0));
	ipi_case("fixed physical 3", APIC_DM_FIXED, 3, W(0, 0, 0, 1));
	ipi_case("fixed physical 0 (self by ID)", APIC_DM_FIXED, 0, W(1, 0, 0, 0));
	ipi_case("fixed physical 7 (no such APIC)", APIC_DM_FIXED, 7, W(0, 0, 0, 0));
	ipi_case("fixed physical broadcast ff", APIC_DM_FIXED, 0xff, W(1, 1, 1, 1));

	/* Flat model: logical ID = one bit per CPU. */
	ipi_case("fixed logical flat 02", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x02, W(0, 1, 0, 0));
	ipi_case("fixed logical flat 0c", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x0c, W(0, 0, 1, 1));
	ipi_case("fixed logical flat 0f", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x0f, W(1, 1, 1, 1));
	ipi_case("fixed logical flat 30 (no CPU)", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x30, W(0, 0, 0, 0));

	/* Shorthands ignore the destination field. */
	ipi_case("shorthand self", APIC_DM_FIXED | APIC_DEST_SELF, 3, W(1, 0, 0, 0));
	ipi_case("shorthand all including self", APIC_DM_FIXED | APIC_DEST_ALLINC, 3, W(1, 1, 1, 1));
	ipi_case("shorthand all excluding self", APIC_DM_FIXED | APIC_DEST_ALLBUT, 3, W(0, 1, 1, 1));

	lowest_case("lowest priority flat 0e", APIC_DEST_LOGICAL, 0x0e, 0xe);
	lowest_case("lowest priority flat 04", APIC_DEST_LOGICAL, 0x04, 0x4);

	nmi_case("NMI physical 2", 0, 2, W(0, 0, 1, 0));
	nmi_case("NMI logical flat 0a", APIC_DEST_LOGICAL, 0x0a, W(0, 1, 0, 1));
	nmi_case("NMI all excluding self", APIC_DEST_ALLBUT, 0, W(0, 1, 1, 1));
	nmi_case("NMI physical broadcast ff", 0, 0xff, W(1, 1, 1, 1));

	/* The 8259s masked: ISA line 14 reaches the CPUs through the IOAPIC only. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	ioapic_case("ioapic fixed physical 3", APIC_DM_FIXED, 3, W(0, 0, 0, 1));
	ioapic_case("ioapic fixed logical flat 0c", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x0c, W(0, 0, 1, 1));
	ioapic_lowest_case("ioapic lowest priority flat 0e", 0x0e, 0xe);

	/* Cluster model: clusters 1 = {0, 1}, 2 = {2, 3}; member bits 1 and 2. */
	run_cmd(CMD_CLUSTER);
	printf("cluster LDR of CPU 0: %x\n", apic_read(APIC_LDR));
	ipi_case("fixed logical cluster 12", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x12, W(0, 1, 0, 0));
	ipi_case("fixed logical cluster 23", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x23, W(0, 0, 1, 1));
	ipi_case("fixed logical cluster 13", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x13, W(1, 1, 0, 0));
	ipi_case("fixed logical cluster 31 (no cluster 3)", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x31, W(0, 0, 0, 0));
	lowest_case("lowest priority cluster 21", APIC_DEST_LOGICAL, 0x21, 0x4);
	nmi_case("NMI logical cluster 22", APIC_DEST_LOGICAL, 0x22, W(0, 0, 0, 1));
	ioapic_case("ioapic fixed logical cluster 23", APIC_DM_FIXED | APIC_DEST_LOGICAL, 0x23, W(0, 0, 1, 1));
	ioapic_lowest_case("ioapic lowest priority cluster 13", 0x13, 0x3);
	return report_summary();
}
