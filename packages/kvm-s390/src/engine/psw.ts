/**
 * PSW bits (z/Architecture Principles of Operation, "Program-Status Word"), split into
 * the two 32-bit words of the 64-bit mask as the engine keeps them.
 */
/** Mask word 0 (PSW bits 0-31). */
export const PSW_MASK_PER = 0x40000000;
export const PSW_MASK_DAT = 0x04000000;
export const PSW_MASK_IO = 0x02000000;
export const PSW_MASK_EXT = 0x01000000;
export const PSW_MASK_KEY = 0x00f00000;
export const PSW_MASK_BIT12 = 0x00080000;
export const PSW_MASK_MCHECK = 0x00040000;
export const PSW_MASK_WAIT = 0x00020000;
export const PSW_MASK_PSTATE = 0x00010000;
export const PSW_MASK_ASC = 0x0000c000;
export const PSW_MASK_CC = 0x00003000;
export const PSW_MASK_PM = 0x00000f00;
/** Extended addressing (64-bit) together with BA. */
export const PSW_MASK_EA = 0x00000001;
/** Mask word 1 (PSW bits 32-63): basic addressing (31-bit). */
export const PSW_MASK_BA = 0x80000000;

/** Bits that must be zero in a z/Architecture PSW mask word 0 (else specification). */
export const PSW_MASK0_INVALID = 0x80000000 | 0x38000000 | PSW_MASK_BIT12 | 0x000000fe;

/** Program mask bits (PSW bits 20-23). */
export const PM_FIXED_OVERFLOW = 0x800;
export const PM_DECIMAL_OVERFLOW = 0x400;
export const PM_HFP_EXP_UNDERFLOW = 0x200;
export const PM_HFP_SIGNIFICANCE = 0x100;
