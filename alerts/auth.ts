// Who is calling the alerts API, and what they may do. Two sources of identity, one interface
// (auth/types.ts):
//  - a static token file in kube-apiserver's --token-auth-file format (auth/token-file.ts, its
//    CSV read by csv-parse in auth/csv.ts), groups mapped to roles by `api.roles`;
//  - in a cluster, the API server itself (auth/kubernetes.ts): TokenReview for the token (with
//    audiences), SubjectAccessReview for verbs on `alerts` in group `bulwark.io`, answers kept
//    in a bounded TTL cache (auth/cache.ts, on lru-cache).
// Tokens are never logged or kept: lookups and caches use their SHA-256.
export { AccessBackendError, roleOf, sha256, type AccessControl, type Identity, type Readiness, type Role, type RoleMap, type Verb } from './auth/types.js';
export {
  MAX_TOKEN_FILE_BYTES,
  parseTokenFile,
  parseTokenFileDetailed,
  TokenFileAccess,
  TokenFileError,
  type TokenEntry,
  type TokenFileAccessOptions,
} from './auth/token-file.js';
export {
  ALERTS_API_GROUP,
  ALERTS_RESOURCE,
  DEFAULT_AUDIENCES,
  DEFAULT_CACHE_TTL_MS,
  KubernetesAccess,
  MAX_CACHE_TTL_MS,
  type KubernetesAccessOptions,
} from './auth/kubernetes.js';
export { TtlCache } from './auth/cache.js';
