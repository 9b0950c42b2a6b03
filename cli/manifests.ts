// Reads Kubernetes manifests from files, directories and stdin: YAML (multi-document) or JSON,
// `kind: List` and every other `*List` kind with `items` expanded, each object with the line it
// starts on. Bad input never stops the read: it becomes an error entry and the rest goes on.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Composer, LineCounter, Parser, isMap, isNode, isSeq, type Document } from 'yaml';
import { isRecord } from '../core/record.js';
import type { K8sObject } from '../policies/types.js';

/** One object found in the input. `source` is `file:line`, the line the object starts on. */
export interface ManifestObject {
  source: string;
  file: string;
  line: number;
  object: K8sObject;
}

/** Input that could not be read or is not a Kubernetes object. `source` is `file:line:column` when known. */
export interface ManifestError {
  source: string;
  file: string;
  line?: number;
  column?: number;
  error: string;
}

export type ManifestEntry = ManifestObject | ManifestError;

export function isManifestError(entry: ManifestEntry): entry is ManifestError {
  return 'error' in entry;
}

export interface LoadOptions {
  /** Reads all of stdin (for the path `-`); the default reads process.stdin. */
  readStdin?: () => Promise<string>;
  /** Name of stdin in sources (default `<stdin>`). */
  stdinName?: string;
}

export const STDIN_PATH = '-';
export const MANIFEST_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.json'];
/** A file larger than this is refused before it is read. */
export const MAX_FILE_BYTES = 128 * 1024 * 1024;
/** The YAML parser needs ~40× the text in memory for one document; JSON.parse is spared this limit. */
export const MAX_YAML_BYTES = 32 * 1024 * 1024;

/**
 * Every manifest object (or error) of the given paths, in order: files in the order given,
 * directories recursively in name order (only .yaml, .yml and .json files; hidden entries and
 * node_modules skipped), `-` for stdin (read once).
 */
export async function* loadManifests(paths: readonly string[], options: LoadOptions = {}): AsyncGenerator<ManifestEntry> {
  const stdinName = options.stdinName ?? '<stdin>';
  let stdinRead = false;
  for (const path of paths) {
    if (path === STDIN_PATH) {
      if (stdinRead) continue;
      stdinRead = true;
      let text: string;
      try {
        text = await (options.readStdin ?? (() => readStream(process.stdin)))();
      } catch (err) {
        yield { source: stdinName, file: stdinName, error: `cannot read stdin: ${describeIoError(err)}` };
        continue;
      }
      yield* parseManifests(text, stdinName);
      continue;
    }
    for await (const file of manifestFiles(path)) {
      if (typeof file !== 'string') {
        yield file;
        continue;
      }
      let text: string;
      try {
        const info = await stat(file);
        if (info.size > MAX_FILE_BYTES) {
          yield { source: file, file, error: `file is too large (${mib(info.size)}; the limit is ${mib(MAX_FILE_BYTES)})` };
          continue;
        }
        text = await readFile(file, 'utf8');
      } catch (err) {
        yield { source: file, file, error: `cannot read: ${describeIoError(err)}` };
        continue;
      }
      yield* parseManifests(text, file);
    }
  }
}

/** Reads a whole stream as UTF-8, refusing more than MAX_FILE_BYTES. */
export async function readStream(stream: AsyncIterable<string | Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > MAX_FILE_BYTES) throw new Error(`input is too large (more than ${mib(MAX_FILE_BYTES)})`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The files a path stands for: itself, or the manifest files under it; or an error entry. */
async function* manifestFiles(path: string): AsyncGenerator<string | ManifestError> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    yield { source: path, file: path, error: `cannot read: ${describeIoError(err)}` };
    return;
  }
  if (!info.isDirectory()) {
    yield path; // a file the user named is read whatever its extension
    return;
  }
  let found = 0;
  for await (const entry of walk(path, new Set())) {
    if (typeof entry === 'string') found++;
    yield entry;
  }
  if (found === 0) {
    yield {
      source: path,
      file: path,
      error: `no ${MANIFEST_EXTENSIONS.join(', ')} files found (hidden directories and node_modules are skipped)`,
    };
  }
}

async function* walk(dir: string, visited: Set<string>): AsyncGenerator<string | ManifestError> {
  let real: string;
  let names: string[];
  try {
    real = await realpath(dir);
    if (visited.has(real)) return; // a symlink loop
    visited.add(real);
    names = (await readdir(dir)).sort();
  } catch (err) {
    yield { source: dir, file: dir, error: `cannot read the directory: ${describeIoError(err)}` };
    return;
  }
  for (const name of names) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const child = join(dir, name);
    let info;
    try {
      info = await stat(child);
    } catch (err) {
      // A dangling symlink named like a manifest is worth a word; anything else is not ours.
      if (isManifestName(name)) yield { source: child, file: child, error: `cannot read: ${describeIoError(err)}` };
      continue;
    }
    if (info.isDirectory()) yield* walk(child, visited);
    else if (info.isFile() && isManifestName(name)) yield child;
  }
}

function isManifestName(name: string): boolean {
  return MANIFEST_EXTENSIONS.includes(extname(name).toLowerCase());
}

/**
 * The objects (and errors) of one text: YAML 1.1 as kubectl reads it (so `privileged: yes` is
 * `true`, as the API server would see it), multi-document, or JSON. Empty documents yield nothing.
 */
export function* parseManifests(text: string, file: string): Generator<ManifestEntry> {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const start = firstNonSpace(text);
  if (start >= 0 && text[start] === '{') {
    // JSON: JSON.parse is two orders of magnitude faster than the YAML parser on big
    // `kubectl get -o json` lists. What it rejects falls through to YAML (which reads flow style).
    let value: unknown;
    let parsed = true;
    try {
      value = JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (parsed) {
      const itemPositions = isListObject(value) ? jsonItemPositions(text, start) : [];
      yield* expand(value, file, positionAt(text, start), (i) => itemPositions[i]);
      return;
    }
  }
  if (text.length > MAX_YAML_BYTES) {
    yield {
      source: file,
      file,
      error: `file is too large to parse as YAML (${mib(text.length)}; the limit is ${mib(MAX_YAML_BYTES)}, JSON is read up to ${mib(MAX_FILE_BYTES)})`,
    };
    return;
  }
  const lineCounter = new LineCounter();
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer({ version: '1.1', prettyErrors: false });
  // One document at a time: a file of thousands of documents never holds all their trees.
  for (const doc of composer.compose(parser.parse(text))) {
    yield* documentEntries(doc, file, lineCounter);
  }
}

function* documentEntries(doc: Document.Parsed, file: string, lineCounter: LineCounter): Generator<ManifestEntry> {
  const error = doc.errors[0];
  if (error) {
    const pos = lineCounter.linePos(error.pos[0]);
    yield errorAt(file, pos.line, pos.col, `invalid YAML: ${error.message.split('\n')[0]}`);
    return;
  }
  const contents = doc.contents;
  if (contents === null) return; // `---` alone, or only comments
  const offset = contents.range[0];
  const pos = lineCounter.linePos(offset);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // e.g. the alias count that guards against "billion laughs"
    yield errorAt(file, pos.line, pos.col, `cannot read the document: ${(err as Error).message}`);
    return;
  }
  if (value === null || value === undefined) return; // `~` or an empty document
  const items = isListObject(value) && isMap(contents) ? contents.get('items', true) : undefined;
  const itemPosition = (i: number): Position | undefined => {
    const node = isSeq(items) ? items.items[i] : undefined;
    if (!isNode(node) || !node.range) return undefined;
    const at = lineCounter.linePos(node.range[0]);
    return { line: at.line, column: at.col };
  };
  yield* expand(value, file, { line: pos.line, column: pos.col }, itemPosition);
}

function isListObject(value: unknown): value is K8sObject & { items: unknown[] } {
  if (!isRecord(value) || typeof value.kind !== 'string') return false;
  return value.kind === 'List' || (value.kind.endsWith('List') && Array.isArray(value.items));
}

interface Position {
  line: number;
  column: number;
}

/** One object, or the items of a list (recursively), or an error saying why it is not an object. */
function* expand(value: unknown, file: string, at: Position, itemPosition: (index: number) => Position | undefined): Generator<ManifestEntry> {
  const { line, column } = at;
  if (!isRecord(value)) {
    yield errorAt(file, line, column, `not a Kubernetes object: expected a mapping with apiVersion and kind, got ${describeValue(value)}`);
    return;
  }
  if (typeof value.kind !== 'string' || value.kind === '') {
    yield errorAt(
      file,
      line,
      column,
      `not a Kubernetes object: ${value.kind === undefined ? 'kind is missing' : `kind must be a string, got ${describeValue(value.kind)}`}`,
    );
    return;
  }
  if (isListObject(value)) {
    const items: unknown[] = Array.isArray(value.items) ? value.items : [];
    for (let i = 0; i < items.length; i++) {
      // Nested lists are rare; their items take the position of the outer item.
      yield* expand(items[i], file, itemPosition(i) ?? at, () => undefined);
    }
    return;
  }
  yield { source: `${file}:${line}`, file, line, object: value };
}

function errorAt(file: string, line: number, column: number, error: string): ManifestError {
  return { source: `${file}:${line}:${column}`, file, line, column, error };
}

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `a ${typeof value} (${String(value)})`;
}

function firstNonSpace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
  }
  return -1;
}

function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * The position of each element of the top-level object's `items` array, in one pass over text
 * that JSON.parse has already accepted (so the scan may trust its structure).
 */
function jsonItemPositions(text: string, start: number): Position[] {
  const positions: Position[] = [];
  const startAt = positionAt(text, start);
  let line = startAt.line;
  let lineStart = start - startAt.column + 1;
  let depth = 0;
  let key: string | undefined;
  let expectValue = false; // at depth 1, after a key's ':'
  let inItems = false; // inside the top-level `items` array (depth 2)
  let expectItem = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line++;
      lineStart = i + 1;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0d) continue;
    if (inItems && depth === 2 && expectItem && c !== 0x2c && c !== 0x5d) {
      positions.push({ line, column: i - lineStart + 1 });
      expectItem = false;
    }
    if (c === 0x22) {
      let j = i + 1;
      while (j < text.length) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22) break;
        else j++;
      }
      if (depth === 1) {
        if (expectValue) expectValue = false;
        else key = text.slice(i + 1, j);
      }
      i = j;
    } else if (c === 0x3a) {
      if (depth === 1) expectValue = true;
    } else if (c === 0x2c) {
      if (depth === 1) key = undefined;
      else if (inItems && depth === 2) expectItem = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (depth === 1 && expectValue) {
        if (c === 0x5b && key === 'items') {
          inItems = true;
          expectItem = true;
        }
        expectValue = false;
      }
      depth++;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      if ((depth === 1 && inItems) || depth === 0) return positions;
    } else if (depth === 1 && expectValue) {
      expectValue = false; // a number, true, false or null
    }
  }
  return positions;
}

function describeIoError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return e instanceof Error ? e.message : String(err);
  }
}

function mib(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
}
