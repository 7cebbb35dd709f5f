#include "apic.h"
#include "desc.h"
#include "smp.h"

#define TRAMPOLINE_BASE 0x8000

extern char trampoline_start[], trampoline_end[];
u8 ap_stacks[(MAX_CPUS + 1) * AP_STACK_SIZE] __aligned(16);
volatile int ap_stack_index;
volatile int cpus_online = 1;
static ap_fn volatile ap_function;
static struct descriptor_table_ptr idtr_copy;

/* Called by boot32.S / boot64.S on the AP's own stack. */
void __noreturn ap_start(void)
{
	lidt(&idtr_copy);
	apic_enable();
	__atomic_add_fetch(&cpus_online, 1, __ATOMIC_SEQ_CST);
	if (ap_function)
		ap_function((int)apic_id());
	for (;;)
		asm volatile("cli; hlt");
}

int smp_init(ap_fn fn, int expected)
{
	asm volatile("sidt %0" : "=m"(idtr_copy));
	ap_function = fn;
	memcpy((void *)TRAMPOLINE_BASE, trampoline_start, (size_t)(trampoline_end - trampoline_start));
	apic_enable();
	/* The MP spec sequence: INIT, wait 10 ms, SIPI, wait 200 us, SIPI. */
	apic_icr_write(APIC_DEST_ALLBUT | APIC_DM_INIT | APIC_INT_LEVELTRIG | APIC_INT_ASSERT, 0);
	io_delay(10000);
	apic_icr_write(APIC_DEST_ALLBUT | APIC_DM_STARTUP | (TRAMPOLINE_BASE >> 12), 0);
	io_delay(200);
	apic_icr_write(APIC_DEST_ALLBUT | APIC_DM_STARTUP | (TRAMPOLINE_BASE >> 12), 0);
	for (u32 spins = 0; cpus_online < expected + 1 && spins < 2000000; spins++)
		io_delay(1);
	return cpus_online - 1;
}
