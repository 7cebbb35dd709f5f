/* Intercepts and interruptions from compiled code, as kvm-unit-tests' s390x tests do:
 * instructions KVM handles (STIDP, STAP, STFL, STFLE, STSI, SPX/STPX, SCK, SIGP,
 * DIAG 0x44, ISKE/SSKE, TPROT) and interruptions the guest handles itself (operation,
 * fixed-point divide, SVC). */
#include "libguest.h"

static unsigned char new_lowcore[8192] __attribute__((aligned(8192)));
static unsigned char page[4096] __attribute__((aligned(4096)));
static unsigned char sysib[4096] __attribute__((aligned(4096)));
static unsigned long fac[4] __attribute__((aligned(8)));
static volatile unsigned long zero_addr = 0;

static const char ebcdic_up[] = "ABCDEFGHI";

static char from_ebcdic(unsigned char c)
{
	if (c >= 0xc1 && c <= 0xc9) return ebcdic_up[c - 0xc1];
	if (c >= 0xd1 && c <= 0xd9) return 'J' + (c - 0xd1);
	if (c >= 0xe2 && c <= 0xe9) return 'S' + (c - 0xe2);
	if (c >= 0x81 && c <= 0x89) return 'a' + (c - 0x81);
	if (c >= 0x91 && c <= 0x99) return 'j' + (c - 0x91);
	if (c >= 0xa2 && c <= 0xa9) return 's' + (c - 0xa2);
	if (c >= 0xf0 && c <= 0xf9) return '0' + (c - 0xf0);
	return c == 0x40 ? ' ' : '?';
}

static int stsi(void *addr, unsigned long fc, unsigned long sel1, unsigned long sel2, unsigned long *r0out)
{
	register unsigned long r0 asm("0") = (fc << 28) | sel1;
	register unsigned long r1 asm("1") = sel2;
	int cc;
	asm volatile("stsi 0(%[a])\n\tipm %[cc]\n\tsrl %[cc],28" : [cc] "=d"(cc), "+d"(r0) : "d"(r1), [a] "a"(addr) : "cc", "memory");
	if (r0out) *r0out = r0;
	return cc;
}

int main(void)
{
	sclp_init();
	unsigned long cpuid;
	asm volatile("stidp %0" : "=Q"(cpuid));
	puts_("stidp: version="); putx(cpuid >> 56); puts_(" type="); putx((cpuid >> 16) & 0xffff); puts_("\n");
	unsigned short cpuaddr;
	asm volatile("stap %0" : "=Q"(cpuaddr));
	puts_("stap: "); putu(cpuaddr); puts_("\n");
	asm volatile("stfl 0" ::: "memory");
	puts_("stfl: "); putx(*(volatile unsigned int *)(zero_addr + 0xc8)); puts_("\n");
	int cc;
	unsigned long n;
	asm volatile("lghi %%r0,3\n\tstfle %[f]\n\tipm %[cc]\n\tsrl %[cc],28\n\tlgr %[n],%%r0"
		     : [cc] "=d"(cc), [f] "=Q"(fac), [n] "=d"(n) :: "cc", "r0");
	puts_("stfle: cc="); putd(cc); puts_(" n="); putu((n & 0xff) + 1); puts_(" fac0="); putx(fac[0]); puts_("\n");
	unsigned long level;
	stsi(sysib, 0, 0, 0, &level);
	puts_("stsi level: "); putx(level >> 28); puts_("\n");
	cc = stsi(sysib, 3, 2, 2, 0);
	puts_("stsi 3.2.2: cc="); putd(cc); puts_(" name=");
	for (int i = 0; i < 8; i++) { char s[2] = { from_ebcdic(sysib[32 + 12 + i]), 0 }; puts_(s); }
	puts_(" cpus="); putu((sysib[36] << 8) | sysib[37]); puts_("\n");
	cc = stsi(sysib, 1, 1, 1, 0);
	puts_("stsi 1.1.1: cc="); putd(cc); puts_(" manufacturer=");
	for (int i = 0; i < 3; i++) { char s[2] = { from_ebcdic(sysib[32 + i]), 0 }; puts_(s); }
	puts_("\n");
	puts_("stsi 2.2.2: cc="); putd(stsi(sysib, 2, 2, 2, 0)); puts_("\n");

	/* SPX to a copy of the lowcore, STPX back, then return to prefix 0 */
	volatile unsigned char *lc0 = (volatile unsigned char *)zero_addr;
	for (int i = 0; i < 8192; i++) new_lowcore[i] = lc0[i];
	unsigned int p = (unsigned long)new_lowcore, q = 0, z = 0;
	asm volatile("spx %1\n\tstpx %0" : "=Q"(q) : "Q"(p) : "memory");
	puts_("spx/stpx: "); putd(q == p); puts_("\n");
	asm volatile("spx %0" :: "Q"(z) : "memory");

	/* SCK then STCK: the clock continues from the set value */
	unsigned long set = 0x1234567800000000UL, now;
	asm volatile("sck %1\n\tstck %0" : "=Q"(now) : "Q"(set) : "cc");
	puts_("sck/stck: "); putd(now >= set && now - set < (1UL << 32)); puts_("\n");

	/* SIGP SENSE to itself, DIAG 0x44 (yield) */
	register unsigned long s2 asm("2") = 0;
	register unsigned long s3 asm("3") = 0;
	asm volatile("sigp %0,%2,1\n\tipm %1\n\tsrl %1,28" : "+d"(s2), "=d"(cc) : "d"(0UL), "d"(s3) : "cc");
	puts_("sigp sense self: cc="); putd(cc); puts_("\n");
	asm volatile("diag 0,0,0x44" ::: "memory");
	puts_("diag 44: ok\n");

	/* storage keys */
	unsigned long key = 0;
	asm volatile("sske %1,%2\n\tiske %0,%2" : "=d"(key) : "d"(0x30UL), "a"(page) : "memory");
	puts_("iske: "); putx(key & 0xfe); puts_("\n");
	asm volatile("tprot 0(%1),0\n\tipm %0\n\tsrl %0,28" : "=d"(cc) : "a"(page) : "cc");
	puts_("tprot: cc="); putd(cc); puts_("\n");

	/* interruptions handled by the guest */
	asm volatile(".short 0x0000" ::: "memory");
	puts_("operation: count="); putd(pgm_count); puts_(" code="); putx(pgm_last_code); puts_("\n");
	volatile long a = 1, b = 0;
	volatile long c = a / b;
	(void)c;
	puts_("divide: count="); putd(pgm_count); puts_(" code="); putx(pgm_last_code); puts_("\n");
	asm volatile("svc 42" ::: "memory");
	puts_("svc: code="); putd(svc_last_code); puts_("\n");
	return 0;
}
