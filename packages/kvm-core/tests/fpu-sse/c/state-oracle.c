/*
 * Host oracle for the state images: builds an x87/SSE state with a known instruction
 * sequence, then prints (hex bytes, one image per line) FXSAVE64 (fxsaveq), FXSAVE
 * (32-bit FIP/FDP layout), FNSTENV with 16-bit operand size (data16), FNSTENV (32-bit)
 * and FNSAVE.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
typedef uint8_t u8; typedef uint16_t u16; typedef uint32_t u32;

static u8 fx64[512] __attribute__((aligned(16)));
static u8 fx32[512] __attribute__((aligned(16)));
static u8 env16[14], env32[28], sav[108];
static u8 xmmdata[256];
static u16 cw = 0x27f;
static u32 mx = 0x7fa5;
static u8 m80[10] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }; /* a denormal */

static void dump(const u8 *p, int n) { for (int i = 0; i < n; i++) printf("%02x", p[i]); printf("\n"); }

int main(void) {
  for (int i = 0; i < 256; i++) xmmdata[i] = (u8)(i * 37 + 11);
  memset(fx64, 0xee, sizeof fx64); memset(fx32, 0xee, sizeof fx32);
  __asm__ volatile(
    "fninit\n fldcw %[cw]\n fld1\n fldz\n fdivrp\n fldpi\n fldl2e\n fldt %[m80]\n ldmxcsr %[mx]\n"
    "movdqu 0(%[x]), %%xmm0\n movdqu 16(%[x]), %%xmm1\n movdqu 32(%[x]), %%xmm2\n movdqu 48(%[x]), %%xmm3\n"
    "movdqu 64(%[x]), %%xmm4\n movdqu 80(%[x]), %%xmm5\n movdqu 96(%[x]), %%xmm6\n movdqu 112(%[x]), %%xmm7\n"
    "movdqu 128(%[x]), %%xmm8\n movdqu 144(%[x]), %%xmm9\n movdqu 160(%[x]), %%xmm10\n movdqu 176(%[x]), %%xmm11\n"
    "movdqu 192(%[x]), %%xmm12\n movdqu 208(%[x]), %%xmm13\n movdqu 224(%[x]), %%xmm14\n movdqu 240(%[x]), %%xmm15\n"
    "fxsaveq %[fx64]\n fxsave %[fx32]\n data16 fnstenv %[e16]\n fnstenv %[e32]\n fnsave %[sv]\n ldmxcsr %[mxr]\n"
    : [fx64] "=m"(fx64), [fx32] "=m"(fx32), [e16] "=m"(env16), [e32] "=m"(env32), [sv] "=m"(sav)
    : [cw] "m"(cw), [mx] "m"(mx), [m80] "m"(m80), [x] "r"(xmmdata), [mxr] "m"((u32){0x1f80})
    : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
      "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
  dump(fx64, 512); dump(fx32, 512); dump(env16, 14); dump(env32, 28); dump(sav, 108);
  return 0;
}
