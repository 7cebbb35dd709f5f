/*
 * mul, imul (one, two and three operands) and div/idiv in every operand size.
 * mul/imul: CF and OF are defined; SF ZF AF PF undefined (masked). div/idiv: all flags
 * undefined (not printed). Divisions are generated so that they never fault (#DE):
 * div takes a high half below the divisor; idiv builds the dividend as q * d + r.
 */
#include "exerciser.h"

#define MULMASK (CF | OF)

static void mul_tests(void)
{
	struct block blk;
	struct lcg g = { 555 };

#define MUL1(name, insn, T, A, D)                                                             \
	block_begin(&blk, name);                                                              \
	for (int i = 0; i < 150; i++) {                                                       \
		T a = (T)operand(&g, i), b = (T)operand(&g, (i * 5 + 1) % 150), lo = a, hi = 0;  \
		ulong fl = 0x2;                                                               \
		asm volatile("push %[f]\n\tpopf\n\t" insn " %[b]\n\tpushf\n\tpop %[f]"            \
			     : "+" A(lo), "=" D(hi), [f] "+r"(fl)                                     \
			     : [b] "r"(b)                                                             \
			     : "cc");                                                                 \
		block_add(&blk, "%llx %llx -> %llx %llx %lx", (unsigned long long)a, (unsigned long long)b, \
			  (unsigned long long)hi, (unsigned long long)lo, fl & MULMASK);               \
	}                                                                                     \
	block_end(&blk);

	MUL1("mul_w", "mulw", u16, "a", "d")
	MUL1("mul_l", "mull", u32, "a", "d")
	MUL1("imul1_w", "imulw", u16, "a", "d")
	MUL1("imul1_l", "imull", u32, "a", "d")
#ifdef __x86_64__
	MUL1("mul_q", "mulq", u64, "a", "d")
	MUL1("imul1_q", "imulq", u64, "a", "d")
#endif

	/* 8-bit: AX = AL * r/m8 */
	block_begin(&blk, "mul_b");
	for (int i = 0; i < 150; i++) {
		u8 a = (u8)operand(&g, i), b = (u8)operand(&g, (i * 5 + 1) % 150);
		u16 ax = a, bx = a;
		ulong fl = 0x2, fl2 = 0x2;
		asm volatile("push %[f]\n\tpopf\n\tmulb %[b]\n\tpushf\n\tpop %[f]" : "+a"(ax), [f] "+r"(fl) : [b] "q"(b) : "cc");
		asm volatile("push %[f]\n\tpopf\n\timulb %[b]\n\tpushf\n\tpop %[f]" : "+a"(bx), [f] "+r"(fl2) : [b] "q"(b) : "cc");
		block_add(&blk, "%x %x -> %x %lx %x %lx", a, b, ax, fl & MULMASK, bx, fl2 & MULMASK);
	}
	block_end(&blk);

#define IMUL23(name, T)                                                                        \
	block_begin(&blk, name);                                                               \
	for (int i = 0; i < 150; i++) {                                                        \
		T a = (T)operand(&g, i), b = (T)operand(&g, (i * 3 + 2) % 150), r2 = a, r3;       \
		ulong fl2 = 0x2, fl3 = 0x2, fl4 = 0x2;                                          \
		T r4;                                                                          \
		asm volatile("push %[f]\n\tpopf\n\timul %[b], %[a]\n\tpushf\n\tpop %[f]"          \
			     : [a] "+r"(r2), [f] "+r"(fl2) : [b] "r"(b) : "cc");                      \
		asm volatile("push %[f]\n\tpopf\n\timul $-12345, %[b], %[a]\n\tpushf\n\tpop %[f]" \
			     : [a] "=r"(r3), [f] "+r"(fl3) : [b] "r"(b) : "cc");                      \
		asm volatile("push %[f]\n\tpopf\n\timul $0x7d, %[b], %[a]\n\tpushf\n\tpop %[f]"   \
			     : [a] "=r"(r4), [f] "+r"(fl4) : [b] "r"(a) : "cc");                      \
		block_add(&blk, "%llx %llx -> %llx %lx %llx %lx %llx %lx", (unsigned long long)a,      \
			  (unsigned long long)b, (unsigned long long)r2, fl2 & MULMASK,                 \
			  (unsigned long long)r3, fl3 & MULMASK, (unsigned long long)r4, fl4 & MULMASK); \
	}                                                                                      \
	block_end(&blk);

	IMUL23("imul23_w", u16)
	IMUL23("imul23_l", u32)
#ifdef __x86_64__
	IMUL23("imul23_q", u64)
#endif
}

static void div_tests(void)
{
	struct block blk;
	struct lcg g = { 777 };

	/* Unsigned: high half < divisor, so the quotient fits. */
#define DIV(name, insn, T)                                                                     \
	block_begin(&blk, name);                                                               \
	for (int i = 0; i < 150; i++) {                                                        \
		T d = (T)operand(&g, i);                                                       \
		if (!d)                                                                        \
			d = 3;                                                                 \
		T hi = (T)(operand(&g, i + 7) % d), lo = (T)operand(&g, i + 13), q = lo, r = hi;  \
		asm volatile(insn " %[d]" : "+a"(q), "+d"(r) : [d] "r"(d) : "cc");                 \
		block_add(&blk, "%llx:%llx / %llx -> %llx %llx", (unsigned long long)hi,           \
			  (unsigned long long)lo, (unsigned long long)d, (unsigned long long)q, (unsigned long long)r); \
	}                                                                                      \
	block_end(&blk);

	DIV("div_w", "divw", u16)
	DIV("div_l", "divl", u32)
#ifdef __x86_64__
	DIV("div_q", "divq", u64)
#endif

	/* Signed: dividend = q * d + r, |r| < |d|, r with the dividend's sign; q fits. */
#define IDIV(name, insn, T, ST, WT, WST, W)                                                    \
	block_begin(&blk, name);                                                               \
	for (int i = 0; i < 150; i++) {                                                        \
		ST d = (ST)operand(&g, i);                                                     \
		if (!d)                                                                        \
			d = -7;                                                                \
		ST q0 = (ST)((ST)operand(&g, i + 3) >> (lcg_next(&g) % (W)));                  \
		if (q0 == (ST)((WT)1 << ((W) - 1)))                                            \
			q0 = 5;                                                                \
		WST prod = (WST)q0 * (WST)d;                                                   \
		WT ad = d < 0 ? (WT)(-(WST)d) : (WT)d;                                         \
		WST r0 = (WST)(lcg_next(&g) % ad);                                             \
		if (prod < 0)                                                                  \
			r0 = -r0;                                                              \
		WST dividend = prod + r0;                                                      \
		T lo = (T)dividend, hi = (T)((WT)dividend >> (W));                             \
		T q = lo, r = hi;                                                              \
		asm volatile(insn " %[d]" : "+a"(q), "+d"(r) : [d] "r"((T)d) : "cc");            \
		block_add(&blk, "%llx:%llx / %llx -> %llx %llx", (unsigned long long)hi,           \
			  (unsigned long long)lo, (unsigned long long)(T)d, (unsigned long long)q, (unsigned long long)r); \
	}                                                                                      \
	block_end(&blk);

	IDIV("idiv_w", "idivw", u16, s16, u32, s32, 16)
	IDIV("idiv_l", "idivl", u32, s32, u64, s64, 32)
#ifdef __x86_64__
	IDIV("idiv_q", "idivq", u64, s64, unsigned __int128, __int128, 64)
#endif

	/* 8-bit: AX / r/m8 -> AL quotient, AH remainder */
	block_begin(&blk, "div_b");
	for (int i = 0; i < 150; i++) {
		u8 d = (u8)operand(&g, i);
		if (!d)
			d = 9;
		u16 ax = (u16)(((operand(&g, i + 2) % d) << 8) | (operand(&g, i + 4) & 0xff)), r = ax;
		asm volatile("divb %[d]" : "+a"(r) : [d] "q"(d) : "cc");
		s8 sd = (s8)d;
		s16 sq = (s16)(s8)operand(&g, i + 6);
		s16 prod = (s16)(sq * sd), rem = (s16)(lcg_next(&g) % (u8)(sd < 0 ? -sd : sd));
		if (prod < 0)
			rem = (s16)-rem;
		u16 sax = (u16)(prod + rem), sr = sax;
		if (sq == -128 && sd == -1)
			sr = sax = 0;
		else
			asm volatile("idivb %[d]" : "+a"(sr) : [d] "q"(d) : "cc");
		block_add(&blk, "%x / %x -> %x ; %x -> %x", ax, d, r, sax, sr);
	}
	block_end(&blk);
}

int main(void)
{
	printf("ex-muldiv %d-bit\n", (int)sizeof(long) * 8);
	mul_tests();
	div_tests();
	printf("ex-muldiv done\n");
	return 0;
}
