export { kvmAmd, kvmAmdParamsSchema } from './module';
export type { KvmAmdParams } from './module';
import { kvmAmd } from './module';
export default kvmAmd;
