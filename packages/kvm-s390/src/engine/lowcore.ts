/**
 * Offsets in the 8 KiB lowcore (prefix area), as arch/s390/include/asm/lowcore.h
 * lays out struct lowcore for z/Architecture.
 */
export const LC_IPL_PSW = 0x0000;
export const LC_EXT_PARAMS = 0x0080;
export const LC_EXT_CPU_ADDR = 0x0084;
export const LC_EXT_INT_CODE = 0x0086;
export const LC_SVC_ILC = 0x0088;
export const LC_SVC_CODE = 0x008a;
export const LC_PGM_ILC = 0x008c;
export const LC_PGM_CODE = 0x008e;
export const LC_DATA_EXC_CODE = 0x0090;
export const LC_MON_CLASS_NR = 0x0094;
export const LC_PER_CODE = 0x0096;
export const LC_PER_ADDRESS = 0x0098;
export const LC_EXC_ACCESS_ID = 0x00a0;
export const LC_PER_ACCESS_ID = 0x00a1;
export const LC_OP_ACCESS_ID = 0x00a2;
export const LC_AR_MODE_ID = 0x00a3;
export const LC_TRANS_EXC_CODE = 0x00a8;
export const LC_MON_CODE = 0x00b0;
export const LC_SUBCHANNEL_ID = 0x00b8;
export const LC_IO_INT_PARM = 0x00bc;
export const LC_IO_INT_WORD = 0x00c0;
export const LC_STFL_FAC_LIST = 0x00c8;
export const LC_MCCK_CODE = 0x00e8;
export const LC_RESTART_OLD_PSW = 0x0120;
export const LC_EXTERNAL_OLD_PSW = 0x0130;
export const LC_SVC_OLD_PSW = 0x0140;
export const LC_PROGRAM_OLD_PSW = 0x0150;
export const LC_MCCK_OLD_PSW = 0x0160;
export const LC_IO_OLD_PSW = 0x0170;
export const LC_RESTART_NEW_PSW = 0x01a0;
export const LC_EXTERNAL_NEW_PSW = 0x01b0;
export const LC_SVC_NEW_PSW = 0x01c0;
export const LC_PROGRAM_NEW_PSW = 0x01d0;
export const LC_MCCK_NEW_PSW = 0x01e0;
export const LC_IO_NEW_PSW = 0x01f0;
/** Store-status save areas (absolute 0x1200.. when stored at absolute zero). */
export const LC_FPREGS_SAVE_AREA = 0x1200;
export const LC_GPREGS_SAVE_AREA = 0x1280;
export const LC_PSW_SAVE_AREA = 0x1300;
export const LC_PREFIX_SAVE_AREA = 0x1318;
export const LC_FP_CREG_SAVE_AREA = 0x131c;
export const LC_TOD_PROGREG_SAVE_AREA = 0x1324;
export const LC_CPU_TIMER_SAVE_AREA = 0x1328;
export const LC_CLOCK_COMP_SAVE_AREA = 0x1330;
export const LC_AREGS_SAVE_AREA = 0x1340;
export const LC_CREGS_SAVE_AREA = 0x1380;
export const LC_EXT_PARAMS2 = 0x11b8;
/** The lowcore (prefix area) is 8 KiB. */
export const LC_SIZE = 0x2000;
