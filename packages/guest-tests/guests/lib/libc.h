/*
 * The freestanding C runtime shared by every guest and by the host builds of the
 * exercisers (like kvm-unit-tests' lib/libcflat.h). No libc: gcc's freestanding
 * headers only.
 */
#ifndef KVMTS_LIBC_H
#define KVMTS_LIBC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef unsigned long ulong;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __noreturn __attribute__((noreturn))
#define __aligned(n) __attribute__((aligned(n)))
#define barrier() asm volatile("" ::: "memory")

/* Provided by the platform: the serial port in a guest, write(2) on the host. */
void console_write(const char *buf, size_t len);
/* Guest: isa-debug-exit (QEMU exits with (code << 1) | 1). Host: exit_group(2). */
void __noreturn exit(int code);

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void puts(const char *s);

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* CRC-32 (IEEE 802.3, reflected), used to fold many result lines into one. */
u32 crc32_update(u32 crc, const void *data, size_t len);

/* Deterministic operand generator (64-bit LCG, Knuth's MMIX constants). */
struct lcg { u64 state; };
static inline u64 lcg_next(struct lcg *g)
{
	g->state = g->state * 6364136223846793005ULL + 1442695040888963407ULL;
	return g->state;
}

/* kvm-unit-tests style reporting: "PASS: msg" / "FAIL: msg"; report_summary() returns the exit code. */
void report(bool pass, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int report_summary(void);

#define assert(cond) do { if (!(cond)) { printf("ASSERT FAILED: %s at %s:%d\n", #cond, __FILE__, __LINE__); exit(0x7f); } } while (0)

#endif
