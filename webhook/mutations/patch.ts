// The patch builder: mutations state "fill this member in when it is unset"; the builder turns
// those wishes into the fewest RFC 6902 `add` operations that never conflict and never
// override a value the user set.
//
// Unset means absent or `null` (for an optional Kubernetes field `null` is the same as
// omitting it), so a fill may `add` over a null member: `add` replaces it. A fill never
// touches a member holding any other value, and gives up when something on the way that
// should be an object is a string, a number or a list (the API server rejects such an object
// anyway; a patch that cannot apply would only hide that).
import { isRecord } from '../../core/record.js';
import { escapeJsonPointer, type JsonPatchOperation } from '../admission.js';

/** A location in the document: object keys and array indexes. */
export type Segments = readonly (string | number)[];

/** `['spec', 'containers', 0]` → `/spec/containers/0` (RFC 6901 escaping of `~` and `/`). */
export function toPointer(segments: Segments): string {
  let out = '';
  for (const s of segments) out += '/' + escapeJsonPointer(String(s));
  return out;
}

/** Unset, in Kubernetes terms: absent or null. */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** The member `key` of `node` when it is the node's own (never an inherited property). */
export function ownMember(node: unknown, key: string | number): unknown {
  if (Array.isArray(node)) {
    return typeof key === 'number' && key >= 0 && key < node.length ? node[key] : undefined;
  }
  if (isRecord(node) && Object.prototype.hasOwnProperty.call(node, key)) return node[key];
  return undefined;
}

/** The value found by following `segments` from `doc`, or undefined. */
export function dig(doc: unknown, segments: Segments): unknown {
  let node = doc;
  for (const s of segments) {
    node = ownMember(node, s);
    if (node === undefined) return undefined;
  }
  return node;
}

function nest(rest: Segments, value: unknown): unknown {
  let out: unknown = structuredClone(value);
  for (let i = rest.length - 1; i >= 0; i--) out = { [String(rest[i])]: out };
  return out;
}

/** Copies into `target` what `source` has and `target` lacks; on a shared key, the first fill wins. */
function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (!Object.prototype.hasOwnProperty.call(target, key)) target[key] = value;
    else if (isRecord(existing) && isRecord(value)) mergeInto(existing, value);
  }
}

export class PatchBuilder {
  /** Pointer → value of one pending `add`, in the order the adds were first asked for. */
  private readonly adds = new Map<string, unknown>();

  constructor(private readonly doc: unknown) {}

  /**
   * Fills the member at `segments` with `value` unless it is set. When objects on the way are
   * missing (or null), one `add` creates the outermost missing one with the rest nested inside,
   * merged with every other fill under the same missing object. Returns true when the
   * document will change.
   */
  fill(segments: Segments, value: unknown): boolean {
    return this.write(segments, value, false);
  }

  /** Like fill, but also overwrites a set member that differs (for Bulwark's own annotation only). */
  put(segments: Segments, value: unknown): boolean {
    return this.write(segments, value, true);
  }

  private write(segments: Segments, value: unknown, overwrite: boolean): boolean {
    let node = this.doc;
    for (let i = 0; i < segments.length; i++) {
      const child = ownMember(node, segments[i]!);
      const last = i === segments.length - 1;
      if (!isSet(child)) {
        // A member can only be added to an object (Bulwark never inserts array elements).
        if (!isRecord(node)) return false;
        this.add(segments.slice(0, i + 1), nest(segments.slice(i + 1), value));
        return true;
      }
      if (last) {
        if (!overwrite || JSON.stringify(child) === JSON.stringify(value)) return false;
        this.adds.set(toPointer(segments), structuredClone(value));
        return true;
      }
      if (typeof child !== 'object') return false;
      node = child;
    }
    return false;
  }

  private add(segments: Segments, value: unknown): void {
    const pointer = toPointer(segments);
    const pending = this.adds.get(pointer);
    if (pending === undefined) this.adds.set(pointer, value);
    else if (isRecord(pending) && isRecord(value)) mergeInto(pending, value);
  }

  get size(): number {
    return this.adds.size;
  }

  operations(): JsonPatchOperation[] {
    const ops: JsonPatchOperation[] = [];
    for (const [path, value] of this.adds) ops.push({ op: 'add', path, value });
    return ops;
  }
}
