export { kvmIntel, kvmIntelParamsSchema } from './module';
export type { KvmIntelParams } from './module';
import { kvmIntel } from './module';
export default kvmIntel;
