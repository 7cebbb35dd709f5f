/**
 * Intel 82801AA AC'97 (ICH) register numbers: the codec's mixer registers (NAM, AC'97
 * 2.3 spec ch. 5.7, QEMU's hw/audio/ac97.c names) and the bus-master registers (NABM,
 * Intel 82801AA datasheet §14: three DMA engines of 16 bytes each, then the globals).
 */
export const PCI_VENDOR_ID_INTEL = 0x8086;
export const PCI_DEVICE_ID_INTEL_82801AA_5 = 0x2415;
export const PCI_CLASS_MULTIMEDIA_AUDIO = 0x040100;
export const AC97_NAM_SIZE = 256;
export const AC97_NABM_SIZE = 64;

// NAM (mixer), 16-bit registers.
export const AC97_Reset = 0x00;
export const AC97_Master_Volume_Mute = 0x02;
export const AC97_Headphone_Volume_Mute = 0x04;
export const AC97_Master_Volume_Mono_Mute = 0x06;
export const AC97_PCM_Out_Volume_Mute = 0x18;
export const AC97_Record_Select = 0x1a;
export const AC97_Record_Gain_Mute = 0x1c;
export const AC97_Powerdown_Ctrl_Stat = 0x26;
export const AC97_Extended_Audio_ID = 0x28;
export const AC97_Extended_Audio_Ctrl_Stat = 0x2a;
export const AC97_PCM_Front_DAC_Rate = 0x2c;
export const AC97_PCM_Surround_DAC_Rate = 0x2e;
export const AC97_PCM_LFE_DAC_Rate = 0x30;
export const AC97_PCM_LR_ADC_Rate = 0x32;
export const AC97_MIC_ADC_Rate = 0x34;
export const AC97_Vendor_ID1 = 0x7c;
export const AC97_Vendor_ID2 = 0x7e;
/** Extended audio: variable rate PCM audio / mic. */
export const EACS_VRA = 0x01;
export const EACS_VRM = 0x08;
export const AC97_VOLUME_MUTE = 0x8000;

// NABM: the three boxes (PCM in, PCM out, mic in) at 0x00, 0x10, 0x20.
export const PI_INDEX = 0;
export const PO_INDEX = 1;
export const MC_INDEX = 2;
export const NABM_BDBAR = 0x00;
export const NABM_CIV = 0x04;
export const NABM_LVI = 0x05;
export const NABM_SR = 0x06;
export const NABM_PICB = 0x08;
export const NABM_PIV = 0x0a;
export const NABM_CR = 0x0b;
export const GLOB_CNT = 0x2c;
export const GLOB_STA = 0x30;
export const CAS = 0x34;

/** Status register. */
export const SR_DCH = 0x01;
export const SR_CELV = 0x02;
export const SR_LVBCI = 0x04;
export const SR_BCIS = 0x08;
export const SR_FIFOE = 0x10;
export const SR_RO_MASK = SR_DCH | SR_CELV;
export const SR_WCLEAR_MASK = SR_FIFOE | SR_BCIS | SR_LVBCI;
export const SR_INT_MASK = SR_FIFOE | SR_BCIS | SR_LVBCI;
/** Control register. */
export const CR_RPBM = 0x01;
export const CR_RR = 0x02;
export const CR_LVBIE = 0x04;
export const CR_FEIE = 0x08;
export const CR_IOCE = 0x10;
export const CR_VALID_MASK = 0x1f;
export const CR_DONT_CLEAR_MASK = CR_IOCE | CR_FEIE | CR_LVBIE;
/** Buffer descriptor control (high half of the second dword). */
export const BD_IOC = 0x80000000;
export const BD_BUP = 0x40000000;
/** Global control / status. */
export const GC_WR = 0x04;
export const GC_CR = 0x02;
export const GC_VALID_MASK = 0x3e;
export const GS_S0CR = 1 << 8;
export const GS_MINT = 1 << 7;
export const GS_POINT = 1 << 6;
export const GS_PIINT = 1 << 5;
export const GS_RCS = 1 << 15;
export const GS_S1R1 = 1 << 11;
export const GS_S0R1 = 1 << 10;
export const GS_GSCI = 1;
export const GS_RO_MASK = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 9) | GS_S0CR | GS_MINT | GS_POINT | GS_PIINT | (1 << 4) | (1 << 3) | (1 << 2) | (1 << 1);
export const GS_VALID_MASK = (1 << 18) - 1;
export const GS_WCLEAR_MASK = GS_RCS | GS_S1R1 | GS_S0R1 | GS_GSCI;
/** Number of entries in a buffer descriptor list. */
export const AC97_BDL_ENTRIES = 32;
