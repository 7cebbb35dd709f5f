/*
 * Integer ALU exerciser: add adc sub sbb and or xor cmp test inc dec neg not, xadd and
 * cmpxchg in every operand size (8/16/32, and 64 in 64-bit builds), with carry-in and all
 * arithmetic flags clear/set; setcc and cmovcc for all 16 conditions over all flag
 * combinations; lahf/sahf; pushf/popf masks; cmpxchg8b/16b; enter/leave.
 */
#include "exerciser.h"

#define NCASES 120

/* Flags in: all clear, or all arithmetic flags set (so CF is both 0 and 1). */
static const ulong flags_in[2] = { 0x2, 0x2 | ARITH };

#define SFX_b "b"
#define SFX_w "w"
#define SFX_l "l"
#define SFX_q "q"
/* Byte operands need a register with a low byte (q) in 32-bit code. */
#define CON_b "q"
#define CON_w "r"
#define CON_l "r"
#define CON_q "r"

#define DEF_BIN(op, sz, T)                                                                 \
	static void op##_##sz(T *a, T b, ulong *fl)                                         \
	{                                                                                   \
		asm volatile("push %[f]\n\tpopf\n\t" #op SFX_##sz " %[b], %[a]\n\tpushf\n\tpop %[f]" \
			     : [a] "+" CON_##sz(*a), [f] "+r"(*fl)                                \
			     : [b] CON_##sz(b)                                                    \
			     : "cc");                                                             \
	}
#define DEF_UN(op, sz, T)                                                                   \
	static void op##_##sz(T *a, T b, ulong *fl)                                          \
	{                                                                                    \
		(void)b;                                                                     \
		asm volatile("push %[f]\n\tpopf\n\t" #op SFX_##sz " %[a]\n\tpushf\n\tpop %[f]"   \
			     : [a] "+" CON_##sz(*a), [f] "+r"(*fl)                                 \
			     :                                                                     \
			     : "cc");                                                              \
	}

#define DEF_ALL_SIZES_32(DEF, op) DEF(op, b, u8) DEF(op, w, u16) DEF(op, l, u32)
#ifdef __x86_64__
#define DEF_ALL_SIZES(DEF, op) DEF_ALL_SIZES_32(DEF, op) DEF(op, q, u64)
#else
#define DEF_ALL_SIZES(DEF, op) DEF_ALL_SIZES_32(DEF, op)
#endif

DEF_ALL_SIZES(DEF_BIN, add)
DEF_ALL_SIZES(DEF_BIN, adc)
DEF_ALL_SIZES(DEF_BIN, sub)
DEF_ALL_SIZES(DEF_BIN, sbb)
DEF_ALL_SIZES(DEF_BIN, and)
DEF_ALL_SIZES(DEF_BIN, or)
DEF_ALL_SIZES(DEF_BIN, xor)
DEF_ALL_SIZES(DEF_BIN, cmp)
DEF_ALL_SIZES(DEF_BIN, test)
DEF_ALL_SIZES(DEF_BIN, xadd)
DEF_ALL_SIZES(DEF_UN, inc)
DEF_ALL_SIZES(DEF_UN, dec)
DEF_ALL_SIZES(DEF_UN, neg)
DEF_ALL_SIZES(DEF_UN, not)

/* and/or/xor/test: AF is undefined (SDM Vol. 2). */
#define LOGIC_MASK (ARITH & ~AF)

#define RUN_OP(op, sz, T, mask)                                                             \
	do {                                                                                \
		struct block blk;                                                           \
		struct lcg g = { 0x1234 + sizeof(T) };                                      \
		block_begin(&blk, #op "_" #sz);                                             \
		for (int i = 0; i < NCASES; i++) {                                          \
			T a0 = (T)operand(&g, i);                                           \
			T b = (T)operand(&g, (i * 7 + 3) % NCASES);                         \
			for (int f = 0; f < 2; f++) {                                       \
				T a = a0;                                                   \
				ulong fl = flags_in[f];                                     \
				op##_##sz(&a, b, &fl);                                      \
				block_add(&blk, "%llx %llx %lx -> %llx %lx", (unsigned long long)a0, \
					  (unsigned long long)b, flags_in[f], (unsigned long long)a, \
					  fl & (mask));                                     \
			}                                                                   \
		}                                                                           \
		block_end(&blk);                                                            \
	} while (0)

#define RUN_32(op, mask) RUN_OP(op, b, u8, mask); RUN_OP(op, w, u16, mask); RUN_OP(op, l, u32, mask)
#ifdef __x86_64__
#define RUN(op, mask) RUN_32(op, mask); RUN_OP(op, q, u64, mask)
#else
#define RUN(op, mask) RUN_32(op, mask)
#endif

static void alu(void)
{
	RUN(add, ARITH);
	RUN(adc, ARITH);
	RUN(sub, ARITH);
	RUN(sbb, ARITH);
	RUN(and, LOGIC_MASK);
	RUN(or, LOGIC_MASK);
	RUN(xor, LOGIC_MASK);
	RUN(cmp, ARITH);
	RUN(test, LOGIC_MASK);
	RUN(xadd, ARITH);
	RUN(inc, ARITH);
	RUN(dec, ARITH);
	RUN(neg, ARITH);
	RUN(not, ARITH);
}

#define DEF_CMPXCHG(op, sz, T)                                                                 \
	static void cmpxchg_##sz(T *mem, T *acc, T src, ulong *fl)                           \
	{                                                                                    \
		asm volatile("push %[f]\n\tpopf\n\tlock cmpxchg" SFX_##sz " %[s], %[m]\n\tpushf\n\tpop %[f]" \
			     : [m] "+m"(*mem), "+a"(*acc), [f] "+r"(*fl)                            \
			     : [s] CON_##sz(src)                                                    \
			     : "cc");                                                               \
	}
DEF_ALL_SIZES(DEF_CMPXCHG, cmpxchg)

#define RUN_CMPXCHG(sz, T)                                                                   \
	do {                                                                                 \
		struct block blk;                                                            \
		struct lcg g = { 77 };                                                       \
		block_begin(&blk, "cmpxchg_" #sz);                                          \
		for (int i = 0; i < 40; i++) {                                               \
			T mem = (T)operand(&g, i), src = (T)operand(&g, i + 5);              \
			T acc = (i & 1) ? mem : (T)operand(&g, i + 9);                       \
			T mem0 = mem, acc0 = acc;                                            \
			ulong fl = flags_in[i & 1];                                          \
			cmpxchg_##sz(&mem, &acc, src, &fl);                                  \
			block_add(&blk, "%llx %llx %llx -> %llx %llx %lx", (unsigned long long)mem0, \
				  (unsigned long long)acc0, (unsigned long long)src,          \
				  (unsigned long long)mem, (unsigned long long)acc, fl & ARITH); \
		}                                                                            \
		block_end(&blk);                                                             \
	} while (0)

static void cmpxchg(void)
{
	RUN_CMPXCHG(b, u8);
	RUN_CMPXCHG(w, u16);
	RUN_CMPXCHG(l, u32);
#ifdef __x86_64__
	RUN_CMPXCHG(q, u64);
#endif
	/* cmpxchg8b (and cmpxchg16b): only ZF is written. */
	struct block blk;
	struct lcg g = { 99 };
	block_begin(&blk, "cmpxchg8b");
	for (int i = 0; i < 40; i++) {
		u64 mem = operand(&g, i), mem0 = mem;
		u64 expect = (i & 1) ? mem : operand(&g, i + 3), nv = operand(&g, i + 11);
		u32 lo = (u32)expect, hi = (u32)(expect >> 32);
		u8 zf;
		asm volatile("lock cmpxchg8b %[m]\n\tsetz %[z]"
			     : [m] "+m"(mem), "+a"(lo), "+d"(hi), [z] "=q"(zf)
			     : "b"((u32)nv), "c"((u32)(nv >> 32))
			     : "cc");
		block_add(&blk, "%llx %llx %llx -> %llx %x%08x %d", (unsigned long long)mem0,
			  (unsigned long long)expect, (unsigned long long)nv, (unsigned long long)mem, hi, lo, zf);
	}
	block_end(&blk);
#ifdef __x86_64__
	block_begin(&blk, "cmpxchg16b");
	for (int i = 0; i < 40; i++) {
		struct { u64 lo, hi; } __aligned(16) m128 = { operand(&g, i), operand(&g, i + 1) };
		u64 m0 = m128.lo, m1 = m128.hi;
		u64 lo = (i & 1) ? m0 : operand(&g, i + 2), hi = m1;
		u64 nlo = operand(&g, i + 4), nhi = operand(&g, i + 5);
		u8 zf;
		asm volatile("lock cmpxchg16b %[m]\n\tsetz %[z]"
			     : [m] "+m"(m128), "+a"(lo), "+d"(hi), [z] "=q"(zf)
			     : "b"(nlo), "c"(nhi)
			     : "cc");
		block_add(&blk, "%llx:%llx -> %llx:%llx %llx:%llx %d", (unsigned long long)m1,
			  (unsigned long long)m0, (unsigned long long)m128.hi, (unsigned long long)m128.lo,
			  (unsigned long long)hi, (unsigned long long)lo, zf);
	}
	block_end(&blk);
#endif
}

/* The 16 condition codes: setcc and cmovcc over all 32 combinations of CF PF ZF SF OF. */
#define CC_LIST(X) X(o) X(no) X(b) X(ae) X(e) X(ne) X(be) X(a) X(s) X(ns) X(p) X(np) X(l) X(ge) X(le) X(g)

#define DEF_SETCC(cc)                                                                   \
	static u32 set_##cc(ulong fl)                                                   \
	{                                                                               \
		u8 r;                                                                   \
		u32 c = 0x11111111, s = 0x22222222;                                     \
		asm volatile("push %[f]\n\tpopf\n\tset" #cc " %[r]\n\tcmov" #cc " %[s], %[c]" \
			     : [r] "=q"(r), [c] "+r"(c)                                   \
			     : [f] "r"(fl), [s] "r"(s)                                     \
			     : "cc");                                                      \
		return r | (c == s ? 2 : 0);                                             \
	}
CC_LIST(DEF_SETCC)

static void setcc(void)
{
	static const u16 bits[5] = { CF, PF, ZF, SF, OF };
	struct block blk;
	block_begin(&blk, "setcc_cmovcc");
	for (int m = 0; m < 32; m++) {
		ulong fl = 0x2;
		for (int k = 0; k < 5; k++)
			if (m & (1 << k))
				fl |= bits[k];
		u32 r = 0, shift = 0;
#define DO_CC(cc) r |= set_##cc(fl) << shift; shift += 2;
		CC_LIST(DO_CC)
#undef DO_CC
		block_add(&blk, "%lx -> %08x", fl, r);
	}
	block_end(&blk);
}

static void lahf_sahf(void)
{
	struct block blk;
	block_begin(&blk, "sahf_lahf");
	for (int ah = 0; ah < 256; ah++) {
		ulong fl;
		u32 ax = (u32)ah << 8, out;
		asm volatile("push %[z]\n\tpopf\n\tsahf\n\tmov $0, %%ah\n\tlahf\n\tpushf\n\tpop %[f]"
			     : "+a"(ax), [f] "=r"(fl)
			     : [z] "r"((ulong)(0x2 | OF))
			     : "cc");
		out = ax >> 8;
		block_add(&blk, "%02x -> %02x %lx", ah, out, fl & ARITH);
	}
	block_end(&blk);
}

/*
 * popf/pushf: which bits can be written. IF, IOPL, TF, RF, VM, VIF, VIP are left out:
 * they depend on CPL and IOPL (the host runs at CPL 3, the guest at CPL 0).
 */
static void pushf_popf(void)
{
	const ulong probe_mask = ~(ulong)(0x100 | 0x200 | 0x3000 | 0x10000 | 0x20000 | 0x80000 | 0x100000);
	static const ulong values[] = { 0, ~(ulong)0, 0x2, 0x8d5, 0x4000, 0x40000, 0x200000, 0x400, 0x7fd7 };
	struct block blk;
	block_begin(&blk, "pushf_popf");
	for (unsigned i = 0; i < ARRAY_SIZE(values); i++) {
		ulong in = values[i] & probe_mask, saved, out;
		asm volatile("pushf\n\tpop %[s]\n\tpush %[in]\n\tpopf\n\tpushf\n\tpop %[o]\n\tpush %[s]\n\tpopf"
			     : [s] "=&r"(saved), [o] "=&r"(out)
			     : [in] "r"(in)
			     : "cc", "memory");
		block_add(&blk, "%lx -> %lx", in, out & probe_mask);
	}
	block_end(&blk);
}

/*
 * enter/leave with nesting levels 0..4: the frame pointers copied from the enclosing
 * frame and the resulting stack and frame pointers, relative to a scratch stack.
 */
extern void enter_leave_probe(ulong *scratch_top, ulong *out);
#ifdef __x86_64__
asm(".text\n"
    ".globl enter_leave_probe\n"
    "enter_leave_probe:\n\t"
    "push %rbp\n\tpush %rbx\n\t"
    "mov %rsp, %rbx\n\t"          /* real stack saved in rbx */
    "lea -64(%rdi), %rbp\n\t"     /* an enclosing frame with frame pointers below it */
    "mov %rdi, %rsp\n\t"
    "enter $24, $0\n\tmov %rsp, 0(%rsi)\n\tmov %rbp, 8(%rsi)\n\tleave\n\tmov %rsp, 16(%rsi)\n\tmov %rbp, 24(%rsi)\n\t"
    "enter $8, $1\n\tmov %rsp, 32(%rsi)\n\tmov %rbp, 40(%rsi)\n\tmov -16(%rbp), %rax\n\tmov %rax, 48(%rsi)\n\tleave\n\t"
    "enter $16, $3\n\tmov %rsp, 56(%rsi)\n\tmov %rbp, 64(%rsi)\n\tmov -16(%rbp), %rax\n\tmov %rax, 72(%rsi)\n\tmov -24(%rbp), %rax\n\tmov %rax, 80(%rsi)\n\tmov -32(%rbp), %rax\n\tmov %rax, 88(%rsi)\n\tleave\n\t"
    "mov %rsp, 96(%rsi)\n\tmov %rbp, 104(%rsi)\n\t"
    "mov %rbx, %rsp\n\tpop %rbx\n\tpop %rbp\n\tret\n");
#else
asm(".text\n"
    ".globl enter_leave_probe\n"
    "enter_leave_probe:\n\t"
    "push %ebp\n\tpush %ebx\n\tpush %esi\n\tpush %edi\n\t"
    "mov 20(%esp), %edi\n\tmov 24(%esp), %esi\n\t"
    "mov %esp, %ebx\n\t"
    "lea -32(%edi), %ebp\n\t"
    "mov %edi, %esp\n\t"
    "enter $24, $0\n\tmov %esp, 0(%esi)\n\tmov %ebp, 4(%esi)\n\tleave\n\tmov %esp, 8(%esi)\n\tmov %ebp, 12(%esi)\n\t"
    "enter $8, $1\n\tmov %esp, 16(%esi)\n\tmov %ebp, 20(%esi)\n\tmov -8(%ebp), %eax\n\tmov %eax, 24(%esi)\n\tleave\n\t"
    "enter $16, $3\n\tmov %esp, 28(%esi)\n\tmov %ebp, 32(%esi)\n\tmov -8(%ebp), %eax\n\tmov %eax, 36(%esi)\n\tmov -12(%ebp), %eax\n\tmov %eax, 40(%esi)\n\tmov -16(%ebp), %eax\n\tmov %eax, 44(%esi)\n\tleave\n\t"
    "mov %esp, 48(%esi)\n\tmov %ebp, 52(%esi)\n\t"
    "mov %ebx, %esp\n\tpop %edi\n\tpop %esi\n\tpop %ebx\n\tpop %ebp\n\tret\n");
#endif

static void enter_leave(void)
{
	static ulong scratch[64] __aligned(16);
	ulong out[14];
	ulong *top = &scratch[48];
	for (int i = 0; i < 64; i++)
		scratch[i] = 0x1000 + (ulong)i;
	enter_leave_probe(top, out);
	struct block blk;
	block_begin(&blk, "enter_leave");
	for (int i = 0; i < 14; i++) {
		/* Pointers into the scratch stack print as offsets from its top. */
		ulong v = out[i];
		if (v >= (ulong)scratch && v <= (ulong)&scratch[64])
			block_add(&blk, "%d top %ld", i, (long)(v - (ulong)top));
		else
			block_add(&blk, "%d %lx", i, v);
	}
	block_end(&blk);
}

/*
 * The other encodings of the same operations: immediate operands (sign-extended imm8,
 * imm16/32), a memory destination with a register source, and a register destination
 * with a memory source. The decoder paths differ; the results must not.
 */
#define DEF_FORMS(op, sz, T, imm8, imm)                                                        \
	static void op##_forms_##sz(T a, T b, ulong fin, T *r, ulong *fl)                      \
	{                                                                                      \
		T m = a, x = a, y = a, z = a;                                                  \
		ulong f0 = fin, f1 = fin, f2 = fin, f3 = fin;                                  \
		asm volatile("push %[f]\n\tpopf\n\t" #op SFX_##sz " %[b], %[m]\n\tpushf\n\tpop %[f]" \
			     : [m] "+m"(m), [f] "+r"(f0) : [b] CON_##sz(b) : "cc");                  \
		asm volatile("push %[f]\n\tpopf\n\t" #op SFX_##sz " %[m], %[x]\n\tpushf\n\tpop %[f]" \
			     : [x] "+" CON_##sz(x), [f] "+r"(f1) : [m] "m"(b) : "cc");                \
		asm volatile("push %[f]\n\tpopf\n\t" #op SFX_##sz " $" #imm8 ", %[y]\n\tpushf\n\tpop %[f]" \
			     : [y] "+" CON_##sz(y), [f] "+r"(f2) :: "cc");                            \
		asm volatile("push %[f]\n\tpopf\n\t" #op SFX_##sz " $" #imm ", %[z]\n\tpushf\n\tpop %[f]" \
			     : [z] "+m"(z), [f] "+r"(f3) :: "cc");                                    \
		r[0] = m, r[1] = x, r[2] = y, r[3] = z;                                        \
		fl[0] = f0, fl[1] = f1, fl[2] = f2, fl[3] = f3;                                \
	}
#define DEF_FORMS_ALL(op)                                                                      \
	DEF_FORMS(op, b, u8, -3, 0x5a) DEF_FORMS(op, w, u16, -3, 0x1234)                       \
	DEF_FORMS(op, l, u32, -3, 0x12345678) DEF_FORMS_Q(op)
#ifdef __x86_64__
#define DEF_FORMS_Q(op) DEF_FORMS(op, q, u64, -3, -0x12345678)
#else
#define DEF_FORMS_Q(op)
#endif
DEF_FORMS_ALL(add)
DEF_FORMS_ALL(adc)
DEF_FORMS_ALL(sub)
DEF_FORMS_ALL(sbb)
DEF_FORMS_ALL(and)
DEF_FORMS_ALL(or)
DEF_FORMS_ALL(xor)
DEF_FORMS_ALL(cmp)

#define RUN_FORMS(op, sz, T, mask)                                                             \
	do {                                                                                   \
		struct block blk;                                                              \
		struct lcg g = { 0x4242 + sizeof(T) };                                         \
		block_begin(&blk, #op "_forms_" #sz);                                         \
		for (int i = 0; i < 40; i++) {                                                 \
			T a = (T)operand(&g, i), b = (T)operand(&g, i + 11), r[4];             \
			ulong fl[4];                                                           \
			op##_forms_##sz(a, b, flags_in[i & 1], r, fl);                          \
			block_add(&blk, "%llx %llx %lx -> %llx %lx %llx %lx %llx %lx %llx %lx",    \
				  (unsigned long long)a, (unsigned long long)b, flags_in[i & 1],  \
				  (unsigned long long)r[0], fl[0] & (mask), (unsigned long long)r[1], fl[1] & (mask), \
				  (unsigned long long)r[2], fl[2] & (mask), (unsigned long long)r[3], fl[3] & (mask)); \
		}                                                                              \
		block_end(&blk);                                                               \
	} while (0)
#ifdef __x86_64__
#define RUN_FORMS_ALL(op, mask) RUN_FORMS(op, b, u8, mask); RUN_FORMS(op, w, u16, mask); RUN_FORMS(op, l, u32, mask); RUN_FORMS(op, q, u64, mask)
#else
#define RUN_FORMS_ALL(op, mask) RUN_FORMS(op, b, u8, mask); RUN_FORMS(op, w, u16, mask); RUN_FORMS(op, l, u32, mask)
#endif

static void forms(void)
{
	RUN_FORMS_ALL(add, ARITH);
	RUN_FORMS_ALL(adc, ARITH);
	RUN_FORMS_ALL(sub, ARITH);
	RUN_FORMS_ALL(sbb, ARITH);
	RUN_FORMS_ALL(and, LOGIC_MASK);
	RUN_FORMS_ALL(or, LOGIC_MASK);
	RUN_FORMS_ALL(xor, LOGIC_MASK);
	RUN_FORMS_ALL(cmp, ARITH);
}

int main(void)
{
	printf("ex-alu %d-bit\n", (int)sizeof(long) * 8);
	forms();
	alu();
	cmpxchg();
	setcc();
	lahf_sahf();
	pushf_popf();
	enter_leave();
	printf("ex-alu done\n");
	return 0;
}
