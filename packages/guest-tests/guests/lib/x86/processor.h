/* Instruction wrappers: port I/O, CPUID, MSRs, control registers, descriptor tables. */
#ifndef KVMTS_X86_PROCESSOR_H
#define KVMTS_X86_PROCESSOR_H

#include "../libc.h"

#define X86_CR0_PE (1u << 0)
#define X86_CR0_MP (1u << 1)
#define X86_CR0_EM (1u << 2)
#define X86_CR0_TS (1u << 3)
#define X86_CR0_NE (1u << 5)
#define X86_CR0_WP (1u << 16)
#define X86_CR0_PG (1u << 31)
#define X86_CR4_PSE (1u << 4)
#define X86_CR4_PAE (1u << 5)
#define X86_CR4_PGE (1u << 7)
#define X86_CR4_OSFXSR (1u << 9)
#define X86_CR4_OSXMMEXCPT (1u << 10)

#define MSR_IA32_APICBASE 0x0000001b
#define MSR_IA32_TSC_DEADLINE 0x000006e0
#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NX (1u << 11)

#define X86_EFLAGS_CF 0x0001
#define X86_EFLAGS_PF 0x0004
#define X86_EFLAGS_AF 0x0010
#define X86_EFLAGS_ZF 0x0040
#define X86_EFLAGS_SF 0x0080
#define X86_EFLAGS_TF 0x0100
#define X86_EFLAGS_IF 0x0200
#define X86_EFLAGS_DF 0x0400
#define X86_EFLAGS_OF 0x0800
#define X86_EFLAGS_ARITH 0x08d5

static inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { asm volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { asm volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

struct cpuid { u32 a, b, c, d; };
static inline struct cpuid cpuid_indexed(u32 leaf, u32 sub)
{
	struct cpuid r;
	asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "0"(leaf), "2"(sub));
	return r;
}
static inline struct cpuid cpuid(u32 leaf) { return cpuid_indexed(leaf, 0); }

static inline u64 rdmsr(u32 idx)
{
	u32 lo, hi;
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(idx) : "memory");
	return lo | ((u64)hi << 32);
}
static inline void wrmsr(u32 idx, u64 v)
{
	asm volatile("wrmsr" :: "a"((u32)v), "d"((u32)(v >> 32)), "c"(idx) : "memory");
}
static inline u64 rdtsc(void)
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | ((u64)hi << 32);
}

static inline ulong read_cr0(void) { ulong v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline ulong read_cr2(void) { ulong v; asm volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline ulong read_cr3(void) { ulong v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline ulong read_cr4(void) { ulong v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(ulong v) { asm volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr2(ulong v) { asm volatile("mov %0, %%cr2" :: "r"(v) : "memory"); }
static inline void write_cr3(ulong v) { asm volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void write_cr4(ulong v) { asm volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
static inline void invlpg(const volatile void *va) { asm volatile("invlpg (%0)" :: "r"(va) : "memory"); }

static inline ulong read_flags(void) { ulong f; asm volatile("pushf; pop %0" : "=r"(f)); return f; }
static inline void irq_enable(void) { asm volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { asm volatile("cli" ::: "memory"); }
static inline void safe_halt(void) { asm volatile("sti; hlt" ::: "memory"); }
static inline void cpu_relax(void) { asm volatile("pause" ::: "memory"); }

struct descriptor_table_ptr {
	u16 limit;
	ulong base;
} __attribute__((packed));

static inline void lgdt(const struct descriptor_table_ptr *p) { asm volatile("lgdt %0" :: "m"(*p)); }
static inline void lidt(const struct descriptor_table_ptr *p) { asm volatile("lidt %0" :: "m"(*p)); }
static inline void ltr(u16 sel) { asm volatile("ltr %0" :: "rm"(sel)); }
static inline u16 read_cs(void) { u16 v; asm volatile("mov %%cs, %0" : "=r"(v)); return v; }

#endif
