/* Instruction exerciser: runs integer, logical, shift, rotate, multiply/divide,
 * compare, string and BFP operations on a table of operands and prints every result.
 * Built twice (Linux user program for qemu-s390x-static, and freestanding guest):
 * both outputs must match byte for byte. Operands pass through volatile storage so
 * gcc emits the instructions instead of folding constants. */
#include "libguest.h"

static volatile unsigned long vals[] = {
	0, 1, 2, 3, 7, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x12345678,
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000UL, 0x123456789abcdef0UL,
	0x7fffffffffffffffUL, 0x8000000000000000UL, 0xfffffffffffffffeUL, 0xffffffffffffffffUL,
	0xdeadbeefcafebabeUL, 1000000007, 0x5555555555555555UL,
};
#define N (sizeof(vals) / sizeof(vals[0]))

static unsigned long acc;
static void out(const char *tag, unsigned long v) { puts_(tag); puts_("="); putx(v); puts_(" "); acc = acc * 31 + v; }

static int popc(unsigned long v) { int n = 0; while (v) { n += v & 1; v >>= 1; } return n; }

int main(void)
{
	sclp_init();
	for (unsigned i = 0; i < N; i++) {
		for (unsigned j = 0; j < N; j++) {
			unsigned long a = vals[i], b = vals[j];
			long sa = (long)a, sb = (long)b;
			unsigned int a32 = (unsigned int)a, b32 = (unsigned int)b;
			int s32 = (int)a32, t32 = (int)b32;
			out("add", a + b); out("sub", a - b); out("mul", a * b);
			out("mulhu", (unsigned long)(((unsigned __int128)a * b) >> 64));
			out("mulhs", (unsigned long)(((__int128)sa * sb) >> 64));
			out("and", a & b); out("or", a | b); out("xor", a ^ b); out("andn", a & ~b);
			out("add32", (unsigned)(a32 + b32)); out("mul32", (unsigned)(a32 * b32));
			out("mul32s", (unsigned long)((long)s32 * t32));
			out("lt", sa < sb); out("ltu", a < b); out("lt32", s32 < t32); out("ltu32", a32 < b32);
			out("eq", a == b);
			if (b != 0) {
				out("divu", a / b); out("remu", a % b);
				if (!(sa == (long)0x8000000000000000UL && sb == -1)) { out("divs", (unsigned long)(sa / sb)); out("rems", (unsigned long)(sa % sb)); }
			}
			if (b32 != 0) {
				out("divu32", a32 / b32); out("remu32", a32 % b32);
				if (!(s32 == (int)0x80000000 && t32 == -1)) { out("divs32", (unsigned)(s32 / t32)); out("rems32", (unsigned)(s32 % t32)); }
			}
			unsigned sh = b & 63, sh32 = b & 31;
			out("shl", a << sh); out("shr", a >> sh); out("sar", (unsigned long)(sa >> sh));
			out("rotl", (a << sh) | (a >> ((64 - sh) & 63)));
			out("shl32", a32 << sh32); out("shr32", a32 >> sh32); out("sar32", (unsigned)(s32 >> sh32));
			out("bf", (a >> (b & 31)) & 0xfff);
			out("ins", (a & ~0xff00UL) | ((b & 0xff) << 8));
			out("min", sa < sb ? a : b); out("maxu", a > b ? a : b);
		}
		unsigned long a = vals[i];
		out("clz", a ? (unsigned long)__builtin_clzl(a) : 64);
		out("ctz", a ? (unsigned long)__builtin_ctzl(a) : 64);
		out("popc", popc(a));
		out("bswap", __builtin_bswap64(a)); out("bswap32", __builtin_bswap32((unsigned)a));
		out("neg", -a); out("abs", (unsigned long)((long)a < 0 ? -(long)a : (long)a));
		out("sext8", (unsigned long)(long)(signed char)a); out("sext16", (unsigned long)(long)(short)a);
		out("sext32", (unsigned long)(long)(int)a); out("zext16", (unsigned short)a);
		double d = (double)(long)a, e = (double)a;
		double q = d / 3.0 + e * 0.5 - 1.25;
		union { double d; unsigned long u; } u1 = { .d = q }, u2 = { .d = (double)(float)q };
		out("fp", u1.u); out("fps", u2.u);
		out("fcvt", (unsigned long)(long)(q / 7.0));
		out("fcmp", (q < d) + 2 * (q == e));
		puts_("\n");
	}
	/* strings */
	static char buf[64];
	static volatile const char *src = "The quick brown fox";
	for (int k = 0; k < 19; k++) buf[k] = src[k];
	out("str", (unsigned long)strlen_(buf));
	puts_("\nchecksum=");
	putx(acc);
	puts_("\n");
	return 0;
}
