/* SMP through SIGP: CPU 0 gives CPU 1 its own lowcore (SIGP SET PREFIX), starts it
 * with SIGP RESTART, and waits for CPU 1's emergency signal; CPU 1 computes, signals
 * and stops itself (SIGP STOP). */
#include "libguest.h"

#define SIGP_SENSE 0x01
#define SIGP_EMERGENCY_SIGNAL 0x03
#define SIGP_STOP 0x05
#define SIGP_RESTART 0x06
#define SIGP_SET_PREFIX 0x0d

static unsigned char lowcore1[8192] __attribute__((aligned(8192)));
unsigned char stack1[16384] __attribute__((aligned(8), used));
static volatile unsigned long result;
static volatile int cpu1_done;
void cpu1_entry(void);

static int sigp(unsigned int addr, unsigned int order, unsigned long param, unsigned long *status)
{
	register unsigned long r2 asm("2") = 0;
	register unsigned long r3 asm("3") = param;
	int cc;
	asm volatile("sigp %[r2],%[addr],0(%[order])\n\tipm %[cc]\n\tsrl %[cc],28"
		     : [r2] "+d"(r2), [cc] "=d"(cc)
		     : "d"(r3), [addr] "d"(addr), [order] "a"(order)
		     : "cc", "memory");
	if (status) *status = r2;
	return cc;
}

void cpu1_main(void)
{
	unsigned long s = 0;
	for (unsigned long i = 1; i <= 1000; i++) s += i;
	result = s;
	cpu1_done = 1;
	sigp(0, SIGP_EMERGENCY_SIGNAL, 0, 0);
	sigp(1, SIGP_STOP, 0, 0);
	for (;;) ;
}

asm(".globl cpu1_entry\n"
    "cpu1_entry:\n"
    "	larl	%r15, stack1+16384-160\n"
    "	brasl	%r14, cpu1_main\n"
    "	j	.\n");

int main(void)
{
	unsigned long status = 0;
	sclp_init();
	puts_("smp: cpu0 up\n");
	int cc = sigp(1, SIGP_SENSE, 0, &status);
	puts_("sense cpu1: cc="); putd(cc); puts_(" status="); putx(status & 0xffffffff); puts_("\n");
	puts_("sense cpu7: cc="); putd(sigp(7, SIGP_SENSE, 0, 0)); puts_("\n");
	/* CPU 1's restart new PSW: 64-bit, disabled, at cpu1_entry */
	unsigned long *rnp = (unsigned long *)(lowcore1 + 0x1a0);
	rnp[0] = 0x0000000180000000UL;
	rnp[1] = (unsigned long)cpu1_entry;
	puts_("set prefix: cc="); putd(sigp(1, SIGP_SET_PREFIX, (unsigned long)lowcore1, 0)); puts_("\n");
	puts_("restart: cc="); putd(sigp(1, SIGP_RESTART, 0, 0)); puts_("\n");
	while (emergency_from < 0)
		wait_for_ext();
	puts_("emergency from cpu "); putd(emergency_from); puts_("\n");
	puts_("cpu1 done="); putd(cpu1_done); puts_(" sum="); putu(result); puts_("\n");
	status = 0;
	cc = sigp(1, SIGP_SENSE, 0, &status);
	puts_("sense cpu1 again: cc="); putd(cc); puts_(" status="); putx(status & 0xffffffff); puts_("\n");
	return 0;
}
