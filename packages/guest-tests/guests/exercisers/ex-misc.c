/*
 * The rest of the user-mode integer set: movzx/movsx, cbw/cwde/cdqe/cwd/cdq/cqo, xchg,
 * xlat, clc/stc/cmc, lea address forms, push/pop forms, loop/jcxz, and (when CPUID has
 * them; "skipped" otherwise, on both sides) BMI1, BMI2, ADX, SSE4.2 CRC32, SSSE3 and
 * SSE4.1 integer instructions.
 */
#include "exerciser.h"

static bool has_bmi1, has_bmi2, has_adx, has_sse42, has_ssse3, has_sse41;

static void features(void)
{
	u32 a, b, c, d;
	ex_cpuid(1, 0, &a, &b, &c, &d);
	has_ssse3 = (c >> 9) & 1;
	has_sse41 = (c >> 19) & 1;
	has_sse42 = (c >> 20) & 1;
	ex_cpuid(7, 0, &a, &b, &c, &d);
	has_bmi1 = (b >> 3) & 1;
	has_bmi2 = (b >> 8) & 1;
	has_adx = (b >> 19) & 1;
	printf("features: bmi1=%d bmi2=%d adx=%d sse4.2=%d ssse3=%d sse4.1=%d\n", has_bmi1, has_bmi2, has_adx,
	       has_sse42, has_ssse3, has_sse41);
}

static void moves(void)
{
	struct block blk;
	struct lcg g = { 11 };
	block_begin(&blk, "movzx_movsx");
	for (int i = 0; i < 60; i++) {
		ulong v = (ulong)operand(&g, i), r[4];
		asm("movzbl %b4, %k0\n\tmovsbl %b4, %k1\n\tmovzwl %w4, %k2\n\tmovswl %w4, %k3"
		    : "=&r"(r[0]), "=&r"(r[1]), "=&r"(r[2]), "=&r"(r[3]) : "q"(v));
		block_add(&blk, "%lx -> %lx %lx %lx %lx", v, r[0], r[1], r[2], r[3]);
#ifdef __x86_64__
		ulong q[3];
		asm("movsbq %b3, %0\n\tmovswq %w3, %1\n\tmovslq %k3, %2" : "=&r"(q[0]), "=&r"(q[1]), "=&r"(q[2]) : "r"(v));
		block_add(&blk, "q %lx -> %lx %lx %lx", v, q[0], q[1], q[2]);
#endif
	}
	block_end(&blk);

	block_begin(&blk, "cbw_cwd_cdq");
	for (int i = 0; i < 60; i++) {
		ulong v = (ulong)operand(&g, i), a1 = v, a2 = v, a3 = v, d2 = 0x1111, d3 = 0x2222;
		asm("cbtw" : "+a"(a1));
		asm("cwtd" : "+a"(a2), "+d"(d2));
		asm("cltd" : "+a"(a3), "+d"(d3));
		block_add(&blk, "%lx -> %lx %lx:%lx %lx:%lx", v, a1, d2, a2, d3, a3);
#ifdef __x86_64__
		ulong a4 = v, a5 = v, d5 = 0;
		asm("cltq" : "+a"(a4));
		asm("cqto" : "+a"(a5), "+d"(d5));
		block_add(&blk, "q %lx -> %lx %lx:%lx", v, a4, d5, a5);
#endif
	}
	block_end(&blk);

	block_begin(&blk, "xchg_xlat_cf");
	static u8 table[256];
	for (int i = 0; i < 256; i++)
		table[i] = (u8)(i * 37 + 11);
	for (int i = 0; i < 40; i++) {
		ulong a = (ulong)operand(&g, i), b = (ulong)operand(&g, i + 1), m = (ulong)operand(&g, i + 2);
		ulong x = a, y = b, mm = m;
		asm("xchg %0, %1\n\txchg %1, %2" : "+r"(x), "+r"(y), "+m"(mm));
		u8 w = (u8)x;
		ulong idx = w;
		asm("xlat" : "+a"(idx) : "b"(table));
		ulong f1, f2, f3;
		asm("push %3\n\tpopf\n\tstc\n\tpushf\n\tpop %0\n\tcmc\n\tpushf\n\tpop %1\n\tclc\n\tpushf\n\tpop %2"
		    : "=&r"(f1), "=&r"(f2), "=&r"(f3) : "r"((ulong)(0x2 | (i & 1 ? ARITH : 0))) : "cc");
		block_add(&blk, "%lx %lx %lx -> %lx %lx %lx %lx %lx %lx %lx", a, b, m, x, y, mm, idx & 0xff,
			  f1 & ARITH, f2 & ARITH, f3 & ARITH);
	}
	block_end(&blk);

	block_begin(&blk, "lea");
	for (int i = 0; i < 40; i++) {
		ulong b = (ulong)operand(&g, i), x = (ulong)operand(&g, i + 5), r[5];
		u32 r32;
		u16 r16;
		asm("lea 0x12(%1), %0" : "=r"(r[0]) : "r"(b));
		asm("lea -0x789(%1,%2,2), %0" : "=r"(r[1]) : "r"(b), "r"(x));
		asm("lea 0x7fffffff(%1,%2,8), %0" : "=r"(r[2]) : "r"(b), "r"(x));
		asm("lea (,%1,4), %0" : "=r"(r[3]) : "r"(x));
		asm("lea -1(%1,%2), %0" : "=r"(r[4]) : "r"(b), "r"(x));
		asm("leal 5(%1,%2,2), %0" : "=r"(r32) : "r"(b), "r"(x));
		asm("leaw 5(%1,%2,2), %0" : "=r"(r16) : "r"(b), "r"(x));
		block_add(&blk, "%lx %lx -> %lx %lx %lx %lx %lx %x %x", b, x, r[0], r[1], r[2], r[3], r[4], r32, r16);
	}
	block_end(&blk);

	block_begin(&blk, "push_pop");
	for (int i = 0; i < 20; i++) {
		ulong v = (ulong)operand(&g, i), m = v ^ 0x5555, out[4], sp0, sp1;
#ifdef __x86_64__
		asm volatile("mov %%rsp, %[s0]\n\tpushq $-5\n\tpushq %[m]\n\tpush %[v]\n\tpushw $0x1234\n\tpopw %%ax\n\tmovzwq %%ax, %%rax\n\tmov %%rax, %[o3]\n\t"
			     "pop %[o0]\n\tpopq %[o1]\n\tpop %[o2]\n\tmov %%rsp, %[s1]"
			     : [o0] "=&r"(out[0]), [o1] "=m"(out[1]), [o2] "=&r"(out[2]), [o3] "=m"(out[3]), [s0] "=&r"(sp0), [s1] "=&r"(sp1)
			     : [v] "r"(v), [m] "m"(m) : "rax", "memory");
#else
		asm volatile("mov %%esp, %[s0]\n\tpushl $-5\n\tpushl %[m]\n\tpush %[v]\n\tpushw $0x1234\n\tpopw %%ax\n\tmovzwl %%ax, %%eax\n\tmov %%eax, %[o3]\n\t"
			     "pop %[o0]\n\tpopl %[o1]\n\tpop %[o2]\n\tmov %%esp, %[s1]"
			     : [o0] "=&r"(out[0]), [o1] "=m"(out[1]), [o2] "=&r"(out[2]), [o3] "=m"(out[3]), [s0] "=&r"(sp0), [s1] "=&r"(sp1)
			     : [v] "r"(v), [m] "m"(m) : "eax", "memory");
#endif
		block_add(&blk, "%lx -> %lx %lx %lx %lx %ld", v, out[0], out[1], out[2], out[3], (long)(sp1 - sp0));
	}
	block_end(&blk);

	block_begin(&blk, "loop_jcxz");
	for (int i = 0; i < 30; i++) {
		ulong cx = (ulong)(i * 3), n1 = 0, cx2 = (ulong)i, n2 = 0, z = 0;
		asm("jecxz 2f\n1:\tinc %1\n\tloop 1b\n2:" : "+c"(cx), "+r"(n1));
		/* loopne: stop when the counter in EAX hits 5 (ZF=1) or ECX runs out */
		ulong a = 0;
		asm("1:\tinc %2\n\tinc %1\n\tcmp $5, %2\n\tloopne 1b\n\tsete %b3" : "+c"(cx2), "+r"(n2), "+r"(a), "+q"(z) :: "cc");
		block_add(&blk, "%d -> %lx %lx %lx %lx %lx", i, cx, n1, cx2, n2, z & 0xff);
	}
	block_end(&blk);
}

/* BMI1/BMI2: flags per the SDM (andn/bextr/bls*: SF ZF CF, OF cleared; AF PF undefined). */
#define BMI_MASK (CF | ZF | SF | OF)
static void bmi(void)
{
	struct block blk;
	struct lcg g = { 23 };
	if (!has_bmi1) {
		printf("bmi1 skipped\n");
	} else {
		struct block cfb;
		block_begin(&blk, "bmi1");
		block_begin(&cfb, "blsi.cf");
		for (int i = 0; i < 80; i++) {
			u32 a = (u32)operand(&g, i), b = (u32)operand(&g, i + 3), ctl = (u32)(lcg_next(&g) >> 48);
			u32 r[5];
			ulong f[5];
#define BMI(i, text, ...) asm(text "\n\tpushf\n\tpop %[f]" : [r] "=&r"(r[i]), [f] "=r"(f[i]) : __VA_ARGS__ : "cc")
			BMI(0, "andn %[b], %[a], %[r]", [a] "r"(a), [b] "r"(b));
			BMI(1, "bextr %[c], %[a], %[r]", [a] "r"(a), [c] "r"(ctl));
			BMI(2, "blsi %[a], %[r]", [a] "r"(a));
			BMI(3, "blsmsk %[a], %[r]", [a] "r"(a));
			BMI(4, "blsr %[a], %[r]", [a] "r"(a));
#undef BMI
			block_add(&blk, "%x %x %x -> %x %lx %x %lx %x %lx %x %lx %x %lx", a, b, ctl, r[0], f[0] & BMI_MASK,
				  r[1], f[1] & (ZF | CF | OF), r[2], f[2] & (BMI_MASK & ~CF), r[3], f[3] & BMI_MASK, r[4], f[4] & BMI_MASK);
			/* BLSI: CF = (source != 0); in a block of its own (QEMU 7.2 inverts it). */
			block_add(&cfb, "%x -> %lx", a, f[2] & CF);
		}
		block_end(&blk);
		block_end(&cfb);
	}
	if (!has_bmi2) {
		printf("bmi2 skipped\n");
	} else {
		block_begin(&blk, "bmi2");
		for (int i = 0; i < 80; i++) {
			u32 a = (u32)operand(&g, i), b = (u32)operand(&g, i + 7), n = (u32)(lcg_next(&g) >> 56);
			u32 r[8], hi, lo;
			ulong fz;
			asm("bzhi %[n], %[a], %[r]\n\tpushf\n\tpop %[f]" : [r] "=&r"(r[0]), [f] "=r"(fz) : [a] "r"(a), [n] "r"(n) : "cc");
			asm("pdep %[b], %[a], %[r]" : [r] "=r"(r[1]) : [a] "r"(a), [b] "r"(b));
			asm("pext %[b], %[a], %[r]" : [r] "=r"(r[2]) : [a] "r"(a), [b] "r"(b));
			asm("rorx $11, %[a], %[r]" : [r] "=r"(r[3]) : [a] "r"(a));
			asm("sarx %[n], %[a], %[r]" : [r] "=r"(r[4]) : [a] "r"(a), [n] "r"(n));
			asm("shlx %[n], %[a], %[r]" : [r] "=r"(r[5]) : [a] "r"(a), [n] "r"(n));
			asm("shrx %[n], %[a], %[r]" : [r] "=r"(r[6]) : [a] "r"(a), [n] "r"(n));
			asm("mulx %[b], %[lo], %[hi]" : [lo] "=&r"(lo), [hi] "=&r"(hi) : "d"(a), [b] "r"(b));
			block_add(&blk, "%x %x %x -> %x %lx %x %x %x %x %x %x %x:%x", a, b, n, r[0], fz & (ZF | CF | SF | OF),
				  r[1], r[2], r[3], r[4], r[5], r[6], hi, lo);
		}
		block_end(&blk);
	}
#ifdef __x86_64__
	/* The 64-bit forms (VEX.W1 / REX.W) and memory source operands. */
	if (has_bmi1 && has_bmi2) {
		struct block cfb;
		block_begin(&blk, "bmi64");
		block_begin(&cfb, "blsi64.cf");
		for (int i = 0; i < 80; i++) {
			u64 a = operand(&g, i), b = operand(&g, i + 5), ctl = lcg_next(&g) >> 48, n = lcg_next(&g) >> 56;
			u64 r[13], hi, lo;
			ulong f[6];
#define BMI(i, text, ...) asm(text "\n\tpushf\n\tpop %[f]" : [r] "=&r"(r[i]), [f] "=r"(f[i]) : __VA_ARGS__ : "cc")
			BMI(0, "andn %[b], %[a], %[r]", [a] "r"(a), [b] "m"(b));
			BMI(1, "bextr %[c], %[b], %[r]", [b] "m"(b), [c] "r"(ctl));
			BMI(2, "blsi %[a], %[r]", [a] "m"(a));
			BMI(3, "blsmsk %[a], %[r]", [a] "r"(a));
			BMI(4, "blsr %[a], %[r]", [a] "m"(a));
			BMI(5, "bzhi %[n], %[a], %[r]", [a] "r"(a), [n] "r"(n));
#undef BMI
			asm("pdep %[b], %[a], %[r]" : [r] "=r"(r[6]) : [a] "r"(a), [b] "m"(b));
			asm("pext %[b], %[a], %[r]" : [r] "=r"(r[7]) : [a] "r"(a), [b] "r"(b));
			asm("rorx $37, %[a], %[r]" : [r] "=r"(r[8]) : [a] "m"(a));
			asm("sarx %[n], %[a], %[r]" : [r] "=r"(r[9]) : [a] "r"(a), [n] "r"(n));
			asm("shlx %[n], %[a], %[r]" : [r] "=r"(r[10]) : [a] "m"(a), [n] "r"(n));
			asm("shrx %[n], %[a], %[r]" : [r] "=r"(r[11]) : [a] "r"(a), [n] "r"(n));
			asm("mulx %[b], %[lo], %[hi]" : [lo] "=&r"(lo), [hi] "=&r"(hi) : "d"(a), [b] "m"(b));
			asm("mulx %[b], %[hi], %[hi]" : [hi] "=&r"(r[12]) : "d"(a), [b] "r"(b)); /* same destination: the high half */
			block_add(&blk, "%llx %llx %llx %llx -> %llx %lx %llx %lx %llx %lx %llx %lx %llx %lx %llx %lx", (unsigned long long)a,
				  (unsigned long long)b, (unsigned long long)ctl, (unsigned long long)n, (unsigned long long)r[0], f[0] & BMI_MASK,
				  (unsigned long long)r[1], f[1] & (ZF | CF | OF), (unsigned long long)r[2], f[2] & (BMI_MASK & ~CF),
				  (unsigned long long)r[3], f[3] & BMI_MASK, (unsigned long long)r[4], f[4] & BMI_MASK,
				  (unsigned long long)r[5], f[5] & (ZF | CF | SF | OF));
			block_add(&blk, "= %llx %llx %llx %llx %llx %llx %llx:%llx %llx", (unsigned long long)r[6], (unsigned long long)r[7],
				  (unsigned long long)r[8], (unsigned long long)r[9], (unsigned long long)r[10], (unsigned long long)r[11],
				  (unsigned long long)hi, (unsigned long long)lo, (unsigned long long)r[12]);
			block_add(&cfb, "%llx -> %lx", (unsigned long long)a, f[2] & CF);
		}
		block_end(&blk);
		block_end(&cfb);
	}
	if (has_adx) {
		block_begin(&blk, "adcx_adox64");
		for (int i = 0; i < 60; i++) {
			u64 a = operand(&g, i), b = operand(&g, i + 2), x = a, y = a;
			ulong fin = (i & 1 ? CF : 0) | (i & 2 ? OF : 0) | 0x2, f1 = fin, f2 = fin;
			asm("push %[f]\n\tpopf\n\tadcx %[b], %[x]\n\tpushf\n\tpop %[f]" : [x] "+r"(x), [f] "+r"(f1) : [b] "m"(b) : "cc");
			asm("push %[f]\n\tpopf\n\tadox %[b], %[y]\n\tpushf\n\tpop %[f]" : [y] "+r"(y), [f] "+r"(f2) : [b] "r"(b) : "cc");
			block_add(&blk, "%llx %llx %lx -> %llx %lx %llx %lx", (unsigned long long)a, (unsigned long long)b, fin,
				  (unsigned long long)x, f1 & ARITH, (unsigned long long)y, f2 & ARITH);
		}
		block_end(&blk);
	}
#endif
	if (!has_adx) {
		printf("adx skipped\n");
	} else {
		block_begin(&blk, "adcx_adox");
		for (int i = 0; i < 60; i++) {
			u32 a = (u32)operand(&g, i), b = (u32)operand(&g, i + 2), x = a, y = a;
			ulong fin = (i & 1 ? CF : 0) | (i & 2 ? OF : 0) | 0x2, f1 = fin, f2 = fin;
			asm("push %[f]\n\tpopf\n\tadcx %[b], %[x]\n\tpushf\n\tpop %[f]" : [x] "+r"(x), [f] "+r"(f1) : [b] "r"(b) : "cc");
			asm("push %[f]\n\tpopf\n\tadox %[b], %[y]\n\tpushf\n\tpop %[f]" : [y] "+r"(y), [f] "+r"(f2) : [b] "r"(b) : "cc");
			block_add(&blk, "%x %x %lx -> %x %lx %x %lx", a, b, fin, x, f1 & ARITH, y, f2 & ARITH);
		}
		block_end(&blk);
	}
}

struct v128 { u64 lo, hi; } __aligned(16);

#define DEF_X(name, text)                                                                     \
	static void name(const struct v128 *a, const struct v128 *b, struct v128 *r)         \
	{                                                                                     \
		asm volatile("movdqa %[a], %%xmm0\n\tmovdqa %[b], %%xmm1\n\t" text "\n\tmovdqa %%xmm0, %[r]" \
			     : [r] "=m"(*r) : [a] "m"(*a), [b] "m"(*b));                             \
	}
DEF_X(pshufb, "pshufb %%xmm1, %%xmm0") DEF_X(pmaddubsw, "pmaddubsw %%xmm1, %%xmm0")
DEF_X(palignr, "palignr $5, %%xmm1, %%xmm0") DEF_X(phaddw, "phaddw %%xmm1, %%xmm0")
DEF_X(pabsb, "pabsb %%xmm1, %%xmm0") DEF_X(psignw, "psignw %%xmm1, %%xmm0")
DEF_X(pmulhrsw, "pmulhrsw %%xmm1, %%xmm0")
DEF_X(pminsd, "pminsd %%xmm1, %%xmm0") DEF_X(pmaxud, "pmaxud %%xmm1, %%xmm0")
DEF_X(pmulld, "pmulld %%xmm1, %%xmm0") DEF_X(pmuldq, "pmuldq %%xmm1, %%xmm0")
DEF_X(pblendw, "pblendw $0xa5, %%xmm1, %%xmm0") DEF_X(pmovsxbw, "pmovsxbw %%xmm1, %%xmm0")
DEF_X(pmovzxwd, "pmovzxwd %%xmm1, %%xmm0") DEF_X(packusdw, "packusdw %%xmm1, %%xmm0")
DEF_X(pcmpeqq, "pcmpeqq %%xmm1, %%xmm0") DEF_X(pinsrd, "pinsrd $2, %k[b], %%xmm0")
DEF_X(phminposuw, "phminposuw %%xmm1, %%xmm0") DEF_X(pcmpgtq, "pcmpgtq %%xmm1, %%xmm0")

typedef void (*x_fn)(const struct v128 *, const struct v128 *, struct v128 *);
static const struct { const char *name; x_fn fn; int level; } xops[] = {
	{ "pshufb", pshufb, 3 }, { "pmaddubsw", pmaddubsw, 3 }, { "palignr", palignr, 3 }, { "phaddw", phaddw, 3 },
	{ "pabsb", pabsb, 3 }, { "psignw", psignw, 3 }, { "pmulhrsw", pmulhrsw, 3 }, { "pminsd", pminsd, 41 },
	{ "pmaxud", pmaxud, 41 }, { "pmulld", pmulld, 41 }, { "pmuldq", pmuldq, 41 }, { "pblendw", pblendw, 41 },
	{ "pmovsxbw", pmovsxbw, 41 }, { "pmovzxwd", pmovzxwd, 41 }, { "packusdw", packusdw, 41 },
	{ "pcmpeqq", pcmpeqq, 41 }, { "pinsrd", pinsrd, 41 }, { "phminposuw", phminposuw, 41 },
	{ "pcmpgtq", pcmpgtq, 42 },
};

static void sse4(void)
{
	for (unsigned o = 0; o < ARRAY_SIZE(xops); o++) {
		bool have = xops[o].level == 3 ? has_ssse3 : xops[o].level == 41 ? has_sse41 : has_sse42;
		if (!have) {
			printf("%s skipped\n", xops[o].name);
			continue;
		}
		struct block blk;
		struct lcg g = { 0x5e4 + o };
		block_begin(&blk, xops[o].name);
		for (int i = 0; i < 30; i++) {
			struct v128 a = { lcg_next(&g), lcg_next(&g) }, b = { lcg_next(&g), lcg_next(&g) }, r;
			if (i & 1)
				a.lo = b.lo;
			xops[o].fn(&a, &b, &r);
			block_add(&blk, "%016llx%016llx %016llx%016llx -> %016llx%016llx", (unsigned long long)a.hi,
				  (unsigned long long)a.lo, (unsigned long long)b.hi, (unsigned long long)b.lo,
				  (unsigned long long)r.hi, (unsigned long long)r.lo);
		}
		block_end(&blk);
	}
	if (has_sse42) {
		struct block blk;
		struct lcg g = { 0xc32 };
		block_begin(&blk, "crc32");
		for (int i = 0; i < 60; i++) {
			u32 c0 = (u32)lcg_next(&g), c1 = c0, c2 = c0, c3 = c0;
			ulong v = (ulong)operand(&g, i);
			asm("crc32b %b1, %0" : "+r"(c1) : "q"(v));
			asm("crc32w %w1, %0" : "+r"(c2) : "r"(v));
			asm("crc32l %k1, %0" : "+r"(c3) : "r"(v));
			block_add(&blk, "%x %lx -> %x %x %x", c0, v, c1, c2, c3);
		}
		block_end(&blk);
	} else {
		printf("crc32 skipped\n");
	}
}

int main(void)
{
	printf("ex-misc %d-bit\n", (int)sizeof(long) * 8);
	features();
	moves();
	bmi();
	sse4();
	printf("ex-misc done\n");
	return 0;
}
