/*
 * Host (Linux user mode) platform for the exercisers: the same program as the guest,
 * built freestanding and linked with -nostdlib, so no (32-bit) libc is needed.
 * write(2) and exit_group(2) are raw system calls: int $0x80 for -m32, syscall for -m64.
 */
#include "../libc.h"

int main(void);

#ifdef __x86_64__
static long sys3(long nr, long a, long b, long c)
{
	long ret;
	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}
#define NR_write 1
#define NR_exit_group 231
#else
static long sys3(long nr, long a, long b, long c)
{
	long ret;
	asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}
#define NR_write 4
#define NR_exit_group 252
#endif

void console_write(const char *buf, size_t len)
{
	while (len) {
		long n = sys3(NR_write, 1, (long)buf, (long)len);
		if (n <= 0)
			break;
		buf += n;
		len -= (size_t)n;
	}
}

void exit(int code)
{
	for (;;)
		sys3(NR_exit_group, code, 0, 0);
}

/* The kernel enters with the stack pointer at argc; align it for the ABI and call main. */
void __noreturn host_start_c(void)
{
	exit(main());
}

#ifdef __x86_64__
asm(".globl _start\n_start:\n\txor %rbp, %rbp\n\tand $-16, %rsp\n\tcall host_start_c\n\thlt\n");
#else
asm(".globl _start\n_start:\n\txor %ebp, %ebp\n\tand $-16, %esp\n\tcall host_start_c\n\thlt\n");
#endif
