// Byte sizes as people write them in config and flags: `6Mi`, `512KiB`, `1048576`.

/** Parses `6Mi`, `6MiB`, `512KiB`, `1048576`, … into bytes; undefined when malformed. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+)\s*(b|k|kb|ki|kib|m|mb|mi|mib|g|gb|gi|gib)?\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = unit === 'b' ? 1 : unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1024 * 1024 * 1024;
  const n = Number(m[1]) * factor;
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}

/** `6 MiB`, `512 KiB` or `1000 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
