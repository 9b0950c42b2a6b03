// The `defender` policy set: one check per file, registered here in a stable order.
import type { AnyCheck } from '../types.js';

export const DEFENDER_CHECKS: readonly AnyCheck[] = [];
