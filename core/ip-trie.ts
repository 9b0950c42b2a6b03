// IP addresses and a prefix trie of address blocks (IPv4 and IPv6). A lookup walks at most one
// node per bit of the address (32 or 128), whatever the number of entries: O(prefix length).
// Nodes live in typed arrays (three int32 per node), so 100,000 entries cost a few MB, not a
// hundred thousand objects.

/** The 4 or 16 bytes of an address, or undefined when the text is not one. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) reads as IPv4. */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 64) return undefined;
  if (text.includes(':')) {
    const v6 = parseIPv6(text);
    if (v6 === undefined) return undefined;
    // ::ffff:a.b.c.d is the IPv4 address a.b.c.d (a dual-stack socket reports it so).
    let mapped = v6[10] === 0xff && v6[11] === 0xff;
    for (let i = 0; i < 10 && mapped; i++) if (v6[i] !== 0) mapped = false;
    return mapped ? v6.slice(12) : v6;
  }
  return parseIPv4(text);
}

function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // Decimal only, no leading zeros (010 is octal to some parsers: refuse the ambiguity).
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIPv6(input: string): Uint8Array | undefined {
  let text = input;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return undefined;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  return out;
}

/** `1.2.3.0/24`, `2001:db8::/32` or a bare address (a /32 or /128): bytes and prefix length, or an error text. */
export function parseCidr(text: string): { bytes: Uint8Array; bits: number } | string {
  const slash = text.indexOf('/');
  const addr = slash >= 0 ? text.slice(0, slash) : text;
  const bytes = parseIp(addr);
  if (!bytes) return `not an IP address or CIDR: ${JSON.stringify(text.slice(0, 80))}`;
  const max = bytes.length * 8;
  if (slash < 0) return { bytes, bits: max };
  const lenText = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return `bad prefix length in ${JSON.stringify(text.slice(0, 80))}`;
  let bits = Number(lenText);
  // An IPv4-mapped IPv6 block (::ffff:1.2.3.0/120) is the IPv4 block 1.2.3.0/24.
  if (bytes.length === 4 && addr.includes(':')) bits -= 96;
  if (bits < 0 || bits > max) return `prefix length out of range in ${JSON.stringify(text.slice(0, 80))}`;
  return { bytes, bits };
}

function bitAt(bytes: Uint8Array, i: number): number {
  return (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
}

/** One trie per address family; each stored prefix carries a label (a small integer: the list). */
class BitTrie {
  /** Per node: child 0, child 1, label + 1 (0: no prefix ends here). */
  private nodes = new Int32Array(3 * 1024);
  private count = 1;

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.nodes.byteLength;
  }

  insert(bytes: Uint8Array, bits: number, label: number): void {
    let node = 0;
    for (let i = 0; i < bits; i++) {
      const slot = node * 3 + bitAt(bytes, i);
      let next = this.nodes[slot]!;
      if (next === 0) {
        next = this.alloc();
        this.nodes[slot] = next;
      }
      node = next;
    }
    if (this.nodes[node * 3 + 2] === 0) this.nodes[node * 3 + 2] = label + 1;
  }

  /** The label and length of the longest stored prefix of the address, or undefined. */
  lookup(bytes: Uint8Array): { label: number; bits: number } | undefined {
    let node = 0;
    let found: { label: number; bits: number } | undefined;
    const max = bytes.length * 8;
    for (let i = 0; ; i++) {
      const label = this.nodes[node * 3 + 2]!;
      if (label !== 0) found = { label: label - 1, bits: i };
      if (i === max) break;
      node = this.nodes[node * 3 + bitAt(bytes, i)]!;
      if (node === 0) break;
    }
    return found;
  }

  private alloc(): number {
    if ((this.count + 1) * 3 > this.nodes.length) {
      const grown = new Int32Array(this.nodes.length * 2);
      grown.set(this.nodes);
      this.nodes = grown;
    }
    return this.count++;
  }
}

export interface PrefixMatch {
  /** The label given when the block was added (the list it came from). */
  label: number;
  /** The matching block, `1.2.3.0/24`. */
  prefix: string;
}

/** A set of IPv4 and IPv6 blocks, each labelled; lookups return the longest matching block. */
export class IpPrefixSet {
  private readonly v4 = new BitTrie();
  private readonly v6 = new BitTrie();
  entries = 0;

  add(bytes: Uint8Array, bits: number, label: number): void {
    (bytes.length === 4 ? this.v4 : this.v6).insert(bytes, bits, label);
    this.entries++;
  }

  /** Parses and adds `text` (an address or CIDR); returns an error text, or undefined when added. */
  addText(text: string, label: number): string | undefined {
    const parsed = parseCidr(text);
    if (typeof parsed === 'string') return parsed;
    this.add(parsed.bytes, parsed.bits, label);
    return undefined;
  }

  lookup(ip: string | Uint8Array): PrefixMatch | undefined {
    const bytes = typeof ip === 'string' ? parseIp(ip) : ip;
    if (!bytes) return undefined;
    const hit = (bytes.length === 4 ? this.v4 : this.v6).lookup(bytes);
    if (!hit) return undefined;
    return { label: hit.label, prefix: `${formatPrefix(bytes, hit.bits)}/${hit.bits}` };
  }

  /** Memory held by the tries (bytes). */
  get memoryBytes(): number {
    return this.v4.bytes + this.v6.bytes;
  }
}

/** The block of `bits` leading bits of the address, as text. */
function formatPrefix(bytes: Uint8Array, bits: number): string {
  const masked = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    masked[i] = bytes[i]! & (0xff << (8 - keep));
  }
  if (masked.length === 4) return masked.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((masked[i]! << 8) | masked[i + 1]!).toString(16));
  // The longest run of zero groups becomes `::` (RFC 5952).
  let best = -1,
    bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}
