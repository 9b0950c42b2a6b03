// "Did you mean …?" for names a user mistyped (config keys, policy IDs).

/** ` (did you mean "x"?)` for the closest known name within 3 edits, or ''. */
export function suggest(value: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 4;
  for (const k of known) {
    const d = editDistance(value, k);
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  return best ? ` (did you mean ${JSON.stringify(best)}?)` : '';
}

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
