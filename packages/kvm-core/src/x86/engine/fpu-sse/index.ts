/**
 * The x87 FPU, MMX, SSE and SSE2 unit of the x86 engine (issue 3). The engine core
 * decodes and routes: D8-DF to execX87, 9B to execFwait, 0F 10-17 28-2F 50-7F C2 C4-C6
 * D0-FF (and 0F 38 / 0F 3A) to execSse, 0F AE /0-/3 to execSseControl.
 */
export { FpuSseState, MXCSR_RESET, MXCSR_MASK_DEFAULT } from './state';
export type { FpuSseHost } from './host';
export { SSE_HAS_IMM8, isSseOpcode, execSse } from './sse-exec';
export type { SseMap, SsePrefix } from './sse-exec';
export { execSseControl, execFwait } from './control';
export type { SseControlKind } from './control';
export { execX87 } from './x87';
