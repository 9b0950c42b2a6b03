// A conservative static estimate of the runtime cost of a CEL expression, in the API server's cost
// units (k8s.io/apiserver/pkg/apis/cel: PerCallLimit per expression, RuntimeCELCostBudget per policy
// evaluation). The API server charges every evaluated node about 1, every comprehension per iteration,
// and string functions by the length they traverse (cel-go: 0.1 per character); the policy's object is
// typed `dyn`, so no schema bound helps it. The estimate assumes a worst case well beyond real pods:
// every list holds up to ESTIMATE_LIST_SIZE entries and every string up to ESTIMATE_STRING_LENGTH
// characters; each token costs 1 times the iterations of the comprehensions around it, and each string
// function (regex matches 4 times over) traverses a whole string.

export const PER_CALL_LIMIT = 1_000_000;
export const RUNTIME_COST_BUDGET = 10_000_000;
/** Entries assumed in every top-level list of the object (containers, volumes, rules, …). */
export const ESTIMATE_LIST_SIZE = 32; // containers: in all three lists together
/** Entries assumed in every list nested in another one (ports, args, capabilities, verbs, …). */
export const ESTIMATE_NESTED_LIST_SIZE = 16;
/** Characters assumed in every string of the object. */
export const ESTIMATE_STRING_LENGTH = 512;

const COMPREHENSIONS = new Set(['exists', 'all', 'filter', 'map', 'exists_one']);
const STRING_FUNCTIONS = new Set([
  'contains',
  'startsWith',
  'endsWith',
  'split',
  'join',
  'lowerAscii',
  'upperAscii',
  'trim',
  'indexOf',
  'lastIndexOf',
  'substring',
]);
const TOKEN = /\s*(?:('(?:[^'\\]|\\.)*')|([A-Za-z_][A-Za-z0-9_]*)|([0-9]+)|(&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()[\]{}]))/y;
/** The three container lists share ESTIMATE_LIST_SIZE containers in all. */
const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);
const CONTAINER_LIST_SIZE = Math.ceil(ESTIMATE_LIST_SIZE / 3);
/** Marks a comprehension over a list of the object (its size depends on the nesting). */
const OBJECT_LIST = -2;
const STRING_COST = Math.ceil(ESTIMATE_STRING_LENGTH * 0.1);

interface Group {
  multiplier: number;
  /** Comprehensions (over the object's lists) around this group. */
  depth: number;
  /** A `[` that starts a list literal: its top-level entries are counted. */
  literal: boolean;
  entries: number;
}

/**
 * Walks the expression's tokens: each costs 1 times the iterations of the comprehensions around it; a
 * comprehension iterates ESTIMATE_LIST_SIZE times (ESTIMATE_NESTED_LIST_SIZE inside another), or the length of the list literal it ranges over;
 * a string function traverses a whole string (matches 4 times over).
 */
export function estimateCost(expression: string): number {
  const groups: Group[] = [{ multiplier: 1, depth: 0, literal: false, entries: 0 }];
  let cost = 0;
  let prev = '';
  let prevPrev = '';
  let closedLiteral = -1;
  let comprehensionSize = -1;
  let pos = 0;
  while (pos < expression.length) {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(expression);
    if (!m || m[0].length === 0) break;
    pos = TOKEN.lastIndex;
    const top = groups[groups.length - 1]!;
    const mult = top.multiplier;
    const token = m[1] ?? m[2] ?? m[3] ?? m[4]!;
    const ident = m[2];
    cost += mult;
    if (token === '(' || token === '[' || token === '{') {
      const literal = token === '[' && !/^[A-Za-z0-9_)\]]/.test(prev);
      const isObjectList = comprehensionSize === OBJECT_LIST || comprehensionSize === CONTAINER_LIST_SIZE;
      const size = comprehensionSize === OBJECT_LIST ? (top.depth > 0 ? ESTIMATE_NESTED_LIST_SIZE : ESTIMATE_LIST_SIZE) : comprehensionSize;
      groups.push({
        multiplier: size > 0 ? mult * size : mult,
        depth: top.depth + (isObjectList ? 1 : 0),
        literal,
        entries: 0,
      });
      comprehensionSize = -1;
    } else if (token === ')' || token === ']' || token === '}') {
      const closed = groups.length > 1 ? groups.pop()! : top;
      closedLiteral = closed.literal ? closed.entries + (prev === '[' ? 0 : 1) : -1;
      prevPrev = prev;
      prev = token;
      continue;
    } else if (token === ',' && top.literal) {
      top.entries++;
    } else if (ident !== undefined && prev === '.') {
      if (COMPREHENSIONS.has(ident)) {
        comprehensionSize = prevPrev === ']' && closedLiteral >= 0 ? closedLiteral : CONTAINER_LISTS.has(prevPrev) ? CONTAINER_LIST_SIZE : OBJECT_LIST;
      } else if (ident === 'matches') cost += mult * 4 * STRING_COST;
      else if (STRING_FUNCTIONS.has(ident)) cost += mult * STRING_COST;
    } else if (token === 'in' && prev !== '.') {
      cost += mult * ESTIMATE_LIST_SIZE;
    } else if (token === '+') {
      cost += mult * STRING_COST;
    }
    if (token !== '.') closedLiteral = prev === ']' && token === '.' ? closedLiteral : token === '.' ? closedLiteral : -1;
    prevPrev = prev;
    prev = token;
  }
  return cost;
}
