/*
 * SSE/SSE2: packed and scalar single/double arithmetic, compares, conversions (under all
 * four MXCSR rounding modes, and with FTZ|DAZ), NaN/infinity/denormal handling, and the
 * SSE2 integer instructions. Values are printed as hex bit patterns with the MXCSR that
 * results (its exception flags are sticky and defined), never through %f.
 */
#include "exerciser.h"

struct v128 { u64 lo, hi; } __aligned(16);

typedef void (*sse_fn)(const struct v128 *a, const struct v128 *b, struct v128 *r, u32 *mxcsr);

#define DEF_SSE(name, text)                                                                  \
	static void name(const struct v128 *a, const struct v128 *b, struct v128 *r, u32 *mxcsr) \
	{                                                                                    \
		asm volatile("ldmxcsr %[m]\n\tmovdqa %[a], %%xmm0\n\tmovdqa %[b], %%xmm1\n\t"     \
			     text "\n\tmovdqa %%xmm0, %[r]\n\tstmxcsr %[m]"                          \
			     : [r] "=m"(*r), [m] "+m"(*mxcsr)                                       \
			     : [a] "m"(*a), [b] "m"(*b)                                             \
			     );                                                     \
	}

/* Floating point */
DEF_SSE(addps, "addps %%xmm1, %%xmm0") DEF_SSE(addpd, "addpd %%xmm1, %%xmm0")
DEF_SSE(addss, "addss %%xmm1, %%xmm0") DEF_SSE(addsd, "addsd %%xmm1, %%xmm0")
DEF_SSE(subps, "subps %%xmm1, %%xmm0") DEF_SSE(subsd, "subsd %%xmm1, %%xmm0")
DEF_SSE(mulps, "mulps %%xmm1, %%xmm0") DEF_SSE(mulpd, "mulpd %%xmm1, %%xmm0")
DEF_SSE(divps, "divps %%xmm1, %%xmm0") DEF_SSE(divsd, "divsd %%xmm1, %%xmm0")
DEF_SSE(sqrtps, "sqrtps %%xmm1, %%xmm0") DEF_SSE(sqrtpd, "sqrtpd %%xmm1, %%xmm0")
DEF_SSE(minps, "minps %%xmm1, %%xmm0") DEF_SSE(maxpd, "maxpd %%xmm1, %%xmm0")
DEF_SSE(minsd, "minsd %%xmm1, %%xmm0") DEF_SSE(maxss, "maxss %%xmm1, %%xmm0")
DEF_SSE(andps, "andps %%xmm1, %%xmm0") DEF_SSE(xorpd, "xorpd %%xmm1, %%xmm0")
DEF_SSE(cmpeqps, "cmpeqps %%xmm1, %%xmm0") DEF_SSE(cmpltpd, "cmpltpd %%xmm1, %%xmm0")
DEF_SSE(cmplesd, "cmplesd %%xmm1, %%xmm0") DEF_SSE(cmpunordps, "cmpunordps %%xmm1, %%xmm0")
DEF_SSE(cmpneqpd, "cmpneqpd %%xmm1, %%xmm0") DEF_SSE(cmpnltss, "cmpnltss %%xmm1, %%xmm0")
DEF_SSE(cmpnlesd, "cmpnlesd %%xmm1, %%xmm0") DEF_SSE(cmpordpd, "cmpordpd %%xmm1, %%xmm0")
DEF_SSE(cvtps2pd, "cvtps2pd %%xmm1, %%xmm0") DEF_SSE(cvtpd2ps, "cvtpd2ps %%xmm1, %%xmm0")
DEF_SSE(cvtsd2ss, "cvtsd2ss %%xmm1, %%xmm0") DEF_SSE(cvtss2sd, "cvtss2sd %%xmm1, %%xmm0")
DEF_SSE(cvtps2dq, "cvtps2dq %%xmm1, %%xmm0") DEF_SSE(cvttps2dq, "cvttps2dq %%xmm1, %%xmm0")
DEF_SSE(cvtdq2ps, "cvtdq2ps %%xmm1, %%xmm0") DEF_SSE(cvtpd2dq, "cvtpd2dq %%xmm1, %%xmm0")
DEF_SSE(cvttpd2dq, "cvttpd2dq %%xmm1, %%xmm0") DEF_SSE(cvtdq2pd, "cvtdq2pd %%xmm1, %%xmm0")
DEF_SSE(unpcklps, "unpcklps %%xmm1, %%xmm0") DEF_SSE(shufps, "shufps $0x1b, %%xmm1, %%xmm0")
DEF_SSE(shufpd, "shufpd $1, %%xmm1, %%xmm0")

/* SSE2 integer */
DEF_SSE(paddb, "paddb %%xmm1, %%xmm0") DEF_SSE(paddw, "paddw %%xmm1, %%xmm0")
DEF_SSE(paddd, "paddd %%xmm1, %%xmm0") DEF_SSE(paddq, "paddq %%xmm1, %%xmm0")
DEF_SSE(psubb, "psubb %%xmm1, %%xmm0") DEF_SSE(psubq, "psubq %%xmm1, %%xmm0")
DEF_SSE(paddsb, "paddsb %%xmm1, %%xmm0") DEF_SSE(paddusw, "paddusw %%xmm1, %%xmm0")
DEF_SSE(psubsw, "psubsw %%xmm1, %%xmm0") DEF_SSE(psubusb, "psubusb %%xmm1, %%xmm0")
DEF_SSE(pmullw, "pmullw %%xmm1, %%xmm0") DEF_SSE(pmulhw, "pmulhw %%xmm1, %%xmm0")
DEF_SSE(pmulhuw, "pmulhuw %%xmm1, %%xmm0") DEF_SSE(pmuludq, "pmuludq %%xmm1, %%xmm0")
DEF_SSE(pmaddwd, "pmaddwd %%xmm1, %%xmm0") DEF_SSE(psadbw, "psadbw %%xmm1, %%xmm0")
DEF_SSE(packsswb, "packsswb %%xmm1, %%xmm0") DEF_SSE(packssdw, "packssdw %%xmm1, %%xmm0")
DEF_SSE(packuswb, "packuswb %%xmm1, %%xmm0") DEF_SSE(punpcklbw, "punpcklbw %%xmm1, %%xmm0")
DEF_SSE(punpckhwd, "punpckhwd %%xmm1, %%xmm0") DEF_SSE(punpckldq, "punpckldq %%xmm1, %%xmm0")
DEF_SSE(punpckhqdq, "punpckhqdq %%xmm1, %%xmm0") DEF_SSE(pshufd, "pshufd $0x1b, %%xmm1, %%xmm0")
DEF_SSE(pshuflw, "pshuflw $0x72, %%xmm1, %%xmm0") DEF_SSE(pshufhw, "pshufhw $0xd8, %%xmm1, %%xmm0")
DEF_SSE(psllw_i, "psllw $3, %%xmm0") DEF_SSE(psrlq_i, "psrlq $13, %%xmm0")
DEF_SSE(psrad_i, "psrad $7, %%xmm0") DEF_SSE(pslldq_i, "pslldq $5, %%xmm0")
DEF_SSE(psrldq_i, "psrldq $3, %%xmm0") DEF_SSE(psllq_x, "psllq %%xmm1, %%xmm0")
DEF_SSE(psraw_x, "psraw %%xmm1, %%xmm0") DEF_SSE(psrld_x, "psrld %%xmm1, %%xmm0")
DEF_SSE(pcmpeqb, "pcmpeqb %%xmm1, %%xmm0") DEF_SSE(pcmpgtw, "pcmpgtw %%xmm1, %%xmm0")
DEF_SSE(pcmpgtd, "pcmpgtd %%xmm1, %%xmm0") DEF_SSE(pand, "pand %%xmm1, %%xmm0")
DEF_SSE(pandn, "pandn %%xmm1, %%xmm0") DEF_SSE(por, "por %%xmm1, %%xmm0")
DEF_SSE(pxor, "pxor %%xmm1, %%xmm0") DEF_SSE(pminub, "pminub %%xmm1, %%xmm0")
DEF_SSE(pmaxub, "pmaxub %%xmm1, %%xmm0") DEF_SSE(pminsw, "pminsw %%xmm1, %%xmm0")
DEF_SSE(pmaxsw, "pmaxsw %%xmm1, %%xmm0") DEF_SSE(pavgb, "pavgb %%xmm1, %%xmm0")
DEF_SSE(pavgw, "pavgw %%xmm1, %%xmm0") DEF_SSE(movq_x, "movq %%xmm1, %%xmm0")
DEF_SSE(movsd_x, "movsd %%xmm1, %%xmm0") DEF_SSE(movss_x, "movss %%xmm1, %%xmm0")

struct sse_op {
	const char *name;
	sse_fn fn;
	int kind; /* 0: single, 1: double, 2: integer */
};

#define F(n) { #n, n, 0 }
#define D(n) { #n, n, 1 }
#define I(n) { #n, n, 2 }
static const struct sse_op ops[] = {
	F(addps), D(addpd), F(addss), D(addsd), F(subps), D(subsd), F(mulps), D(mulpd), F(divps),
	D(divsd), F(sqrtps), D(sqrtpd), F(minps), D(maxpd), D(minsd), F(maxss), F(andps), D(xorpd),
	F(cmpeqps), D(cmpltpd), D(cmplesd), F(cmpunordps), D(cmpneqpd), F(cmpnltss), D(cmpnlesd),
	D(cmpordpd), F(cvtps2pd), D(cvtpd2ps), D(cvtsd2ss), F(cvtss2sd), F(cvtps2dq), F(cvttps2dq),
	I(cvtdq2ps), D(cvtpd2dq), D(cvttpd2dq), I(cvtdq2pd), F(unpcklps), F(shufps), D(shufpd),
	I(paddb), I(paddw), I(paddd), I(paddq), I(psubb), I(psubq), I(paddsb), I(paddusw), I(psubsw),
	I(psubusb), I(pmullw), I(pmulhw), I(pmulhuw), I(pmuludq), I(pmaddwd), I(psadbw), I(packsswb),
	I(packssdw), I(packuswb), I(punpcklbw), I(punpckhwd), I(punpckldq), I(punpckhqdq), I(pshufd),
	I(pshuflw), I(pshufhw), I(psllw_i), I(psrlq_i), I(psrad_i), I(pslldq_i), I(psrldq_i),
	I(psllq_x), I(psraw_x), I(psrld_x), I(pcmpeqb), I(pcmpgtw), I(pcmpgtd), I(pand), I(pandn),
	I(por), I(pxor), I(pminub), I(pmaxub), I(pminsw), I(pmaxsw), I(pavgb), I(pavgw), I(movq_x),
	I(movsd_x), I(movss_x),
};

static const u32 special_f32[] = {
	0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40490fdb, 0x7f7fffff,
	0x00800000, 0x00000001, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001,
	0x7fa00000, 0x3eaaaaab, 0x4effffff, 0xcf000000, 0x4f000000, 0x3f000001, 0x40000000,
	0x3f7fffff,
};
static const u64 special_f64[] = {
	0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
	0x3ff8000000000000ull, 0x400921fb54442d18ull, 0x7fefffffffffffffull, 0x0010000000000000ull,
	0x0000000000000001ull, 0x800fffffffffffffull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
	0x7ff8000000000000ull, 0xfff8000000000001ull, 0x7ff4000000000000ull, 0x3fd5555555555555ull,
	0x41dfffffffc00000ull, 0xc1e0000000200000ull, 0x41e0000000000000ull, 0x3fe0000000000001ull,
	0x47efffffe0000000ull, 0x36a0000000000000ull,
};
#define NSF ((int)ARRAY_SIZE(special_f32))
#define NSD ((int)ARRAY_SIZE(special_f64))

static u32 pick32(struct lcg *g)
{
	u64 r = lcg_next(g);
	if ((r & 3) != 3)
		return special_f32[(r >> 8) % NSF];
	return (u32)(r >> 32);
}

static u64 pick64(struct lcg *g)
{
	u64 r = lcg_next(g);
	if ((r & 3) != 3)
		return special_f64[(r >> 8) % NSD];
	return r ^ (r << 29);
}

static void make(struct lcg *g, int kind, struct v128 *v)
{
	if (kind == 0) {
		v->lo = pick32(g) | ((u64)pick32(g) << 32);
		v->hi = pick32(g) | ((u64)pick32(g) << 32);
	} else if (kind == 1) {
		v->lo = pick64(g);
		v->hi = pick64(g);
	} else {
		v->lo = lcg_next(g);
		v->hi = lcg_next(g);
		if (lcg_next(g) & 1)
			v->lo = (v->lo & 0xff00ff00ff00ff00ull) | 0x007f0080ffff0000ull; /* saturation edges */
	}
}

/* MXCSR: all exceptions masked, the four rounding modes, then FTZ|DAZ. */
static const u32 mxcsr_modes[] = { 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0 };

#define MXCSR_DE 0x2
#define MXCSR_DAZ 0x40

static bool nan32(u32 v) { return (v & 0x7f800000) == 0x7f800000 && (v & 0x7fffff); }
static bool nan64(u64 v) { return (v & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (v & 0xfffffffffffffull); }

/* Some lane has a NaN in both operands (which NaN wins is the case under test). */
static bool two_nans(int kind, const struct v128 *a, const struct v128 *b)
{
	if (kind == 0) {
		for (int i = 0; i < 2; i++) {
			u64 x = i ? a->hi : a->lo, y = i ? b->hi : b->lo;
			if ((nan32((u32)x) && nan32((u32)y)) || (nan32((u32)(x >> 32)) && nan32((u32)(y >> 32))))
				return true;
		}
		return false;
	}
	if (kind == 1)
		return (nan64(a->lo) && nan64(b->lo)) || (nan64(a->hi) && nan64(b->hi));
	return false;
}

/*
 * Per instruction four blocks: "<op>" (MXCSR without DE), "<op>.nan2" (the cases where a
 * lane has two NaN operands), "<op>.daz" (the FTZ|DAZ mode) and "<op>.de" (the
 * denormal-operand flag of every case).
 * The split keeps well-known emulator differences (NaN selection, MXCSR.DE) in blocks of
 * their own, so a comparison can name exactly what it skips.
 */
static void sse_ops(void)
{
	for (unsigned o = 0; o < ARRAY_SIZE(ops); o++) {
		struct block blk, nan2, de, daz;
		char n2[32], nde[32], ndaz[32];
		struct lcg g = { 0xc0ffee + o };
		snprintf(n2, sizeof(n2), "%s.nan2", ops[o].name);
		snprintf(nde, sizeof(nde), "%s.de", ops[o].name);
		snprintf(ndaz, sizeof(ndaz), "%s.daz", ops[o].name);
		block_begin(&blk, ops[o].name);
		block_begin(&nan2, n2);
		block_begin(&de, nde);
		block_begin(&daz, ndaz);
		for (int i = 0; i < 40; i++) {
			struct v128 a, b, r;
			make(&g, ops[o].kind, &a);
			make(&g, ops[o].kind, &b);
			if (ops[o].kind == 2 && (i & 1))
				b.lo &= 0x1f; /* shift counts in range sometimes */
			unsigned nm = ops[o].kind == 2 ? 1 : ARRAY_SIZE(mxcsr_modes);
			bool both = two_nans(ops[o].kind, &a, &b);
			u32 des = 0;
			for (unsigned m = 0; m < nm; m++) {
				u32 mx = mxcsr_modes[m];
				ops[o].fn(&a, &b, &r, &mx);
				des |= ((mx & MXCSR_DE) ? 1u : 0u) << m;
				block_add(both ? &nan2 : (mx & MXCSR_DAZ) ? &daz : &blk, "%016llx%016llx %016llx%016llx %x -> %016llx%016llx %x",
					  (unsigned long long)a.hi, (unsigned long long)a.lo, (unsigned long long)b.hi,
					  (unsigned long long)b.lo, mxcsr_modes[m], (unsigned long long)r.hi,
					  (unsigned long long)r.lo, mx & ~MXCSR_DE);
			}
			block_add(&de, "%d %x", i, des);
		}
		block_end(&blk);
		block_end(&nan2);
		block_end(&de);
		block_end(&daz);
	}
}

/* Scalar results in general registers: comisd/ucomisd flags, cvt*2si, movmsk. */
static void sse_gpr(void)
{
	struct block blk, de;
	struct lcg g = { 42 };
	block_begin(&blk, "comis_ucomis");
	block_begin(&de, "comis_ucomis.de");
	for (int i = 0; i < 120; i++) {
		struct v128 a, b;
		make(&g, 1, &a);
		make(&g, 1, &b);
		if (i < NSD * 2) {
			a.lo = special_f64[i % NSD];
			b.lo = special_f64[(i / 2) % NSD];
		}
		u32 mx1 = 0x1f80, mx2 = 0x1f80;
		ulong f1, f2;
		asm volatile("ldmxcsr %[m]\n\tmovdqa %[a], %%xmm0\n\tcomisd %[b], %%xmm0\n\tpushf\n\tpop %[f]\n\tstmxcsr %[m]"
			     : [f] "=r"(f1), [m] "+m"(mx1) : [a] "m"(a), [b] "m"(b.lo) : "cc");
		asm volatile("ldmxcsr %[m]\n\tmovdqa %[a], %%xmm0\n\tucomisd %[b], %%xmm0\n\tpushf\n\tpop %[f]\n\tstmxcsr %[m]"
			     : [f] "=r"(f2), [m] "+m"(mx2) : [a] "m"(a), [b] "m"(b.lo) : "cc");
		block_add(&blk, "%llx %llx -> %lx %x %lx %x", (unsigned long long)a.lo, (unsigned long long)b.lo,
			  f1 & ARITH, mx1 & ~MXCSR_DE, f2 & ARITH, mx2 & ~MXCSR_DE);
		block_add(&de, "%d %x %x", i, mx1 & MXCSR_DE, mx2 & MXCSR_DE);
	}
	block_end(&blk);
	block_end(&de);

	block_begin(&blk, "cvtsd2si");
	for (int i = 0; i < 60; i++) {
		u64 d = i < NSD ? special_f64[i] : pick64(&g);
		for (unsigned m = 0; m < 4; m++) {
			u32 mx = mxcsr_modes[m], r1, r2, r3;
			asm volatile("ldmxcsr %[m]\n\tcvtsd2si %[d], %[r1]\n\tcvttsd2si %[d], %[r2]\n\tcvtss2si %[s], %[r3]\n\tstmxcsr %[m]"
				     : [r1] "=r"(r1), [r2] "=r"(r2), [r3] "=r"(r3), [m] "+m"(mx)
				     : [d] "m"(d), [s] "m"(*(u32 *)&d));
			block_add(&blk, "%llx %x -> %x %x %x %x", (unsigned long long)d, mxcsr_modes[m], r1, r2, r3, mx & ~MXCSR_DE);
#ifdef __x86_64__
			u64 q1, q2;
			mx = mxcsr_modes[m];
			asm volatile("ldmxcsr %[m]\n\tcvtsd2si %[d], %[r1]\n\tcvttsd2si %[d], %[r2]\n\tstmxcsr %[m]"
				     : [r1] "=r"(q1), [r2] "=r"(q2), [m] "+m"(mx) : [d] "m"(d));
			block_add(&blk, "q %llx -> %llx %llx %x", (unsigned long long)d, (unsigned long long)q1,
				  (unsigned long long)q2, mx & ~MXCSR_DE);
#endif
		}
	}
	block_end(&blk);

	block_begin(&blk, "cvtsi2sd");
	for (int i = 0; i < 60; i++) {
		u64 v = operand(&g, i);
		for (unsigned m = 0; m < 4; m++) {
			u32 mx = mxcsr_modes[m];
			struct v128 r = { 0, 0 };
			asm volatile("ldmxcsr %[m]\n\tpxor %%xmm0, %%xmm0\n\tcvtsi2sdl %[v], %%xmm0\n\tcvtsi2ssl %[v], %%xmm1\n\t"
				     "movq %%xmm0, %[lo]\n\tmovd %%xmm1, %[hi]\n\tstmxcsr %[m]"
				     : [lo] "=m"(r.lo), [hi] "=m"(*(u32 *)&r.hi), [m] "+m"(mx) : [v] "r"((u32)v) );
			block_add(&blk, "%x %x -> %llx %llx %x", (u32)v, mxcsr_modes[m], (unsigned long long)r.lo,
				  (unsigned long long)r.hi, mx);
		}
	}
	block_end(&blk);

	block_begin(&blk, "movmsk");
	for (int i = 0; i < 40; i++) {
		struct v128 a;
		make(&g, 2, &a);
		u32 m1, m2, m3;
		asm volatile("movdqa %[a], %%xmm0\n\tpmovmskb %%xmm0, %[m1]\n\tmovmskps %%xmm0, %[m2]\n\tmovmskpd %%xmm0, %[m3]"
			     : [m1] "=r"(m1), [m2] "=r"(m2), [m3] "=r"(m3) : [a] "m"(a));
		block_add(&blk, "%016llx%016llx -> %x %x %x", (unsigned long long)a.hi, (unsigned long long)a.lo, m1, m2, m3);
	}
	block_end(&blk);
}

int main(void)
{
	printf("ex-sse %d-bit\n", (int)sizeof(long) * 8);
	sse_ops();
	sse_gpr();
	printf("ex-sse done\n");
	return 0;
}
