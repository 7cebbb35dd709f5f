export { kvmS390, kvmS390ParamsSchema } from './module';
export type { KvmS390Params } from './module';
import { kvmS390 } from './module';
export default kvmS390;
