/** Program-interruption codes (Principles of Operation, chapter 6; asm/pgm ids in Linux). */
export const PGM_OPERATION = 0x01;
export const PGM_PRIVILEGED_OP = 0x02;
export const PGM_EXECUTE = 0x03;
export const PGM_PROTECTION = 0x04;
export const PGM_ADDRESSING = 0x05;
export const PGM_SPECIFICATION = 0x06;
export const PGM_DATA = 0x07;
export const PGM_FIXPOINT_OVERFLOW = 0x08;
export const PGM_FIXPOINT_DIVIDE = 0x09;
export const PGM_DECIMAL_OVERFLOW = 0x0a;
export const PGM_DECIMAL_DIVIDE = 0x0b;
export const PGM_HFP_EXP_OVERFLOW = 0x0c;
export const PGM_HFP_EXP_UNDERFLOW = 0x0d;
export const PGM_HFP_SIGNIFICANCE = 0x0e;
export const PGM_HFP_DIVIDE = 0x0f;
export const PGM_SEGMENT_TRANSLATION = 0x10;
export const PGM_PAGE_TRANSLATION = 0x11;
export const PGM_TRANSLATION_SPEC = 0x12;
export const PGM_SPECIAL_OPERATION = 0x13;
export const PGM_ASCE_TYPE = 0x38;
export const PGM_REGION_FIRST_TRANS = 0x39;
export const PGM_REGION_SECOND_TRANS = 0x3a;
export const PGM_REGION_THIRD_TRANS = 0x3b;

/**
 * Nullifying codes: the old PSW points at the failing instruction. For every other
 * code (operation, privileged-operation, specification, data, addressing, fixed-point
 * ...) the instruction is suppressed or completed and the old PSW points past it.
 */
export function pgmIsNullifying(code: number): boolean {
  switch (code & 0x7f) {
    case PGM_SEGMENT_TRANSLATION:
    case PGM_PAGE_TRANSLATION:
    case PGM_ASCE_TYPE:
    case PGM_REGION_FIRST_TRANS:
    case PGM_REGION_SECOND_TRANS:
    case PGM_REGION_THIRD_TRANS:
      return true;
    default:
      return false;
  }
}
