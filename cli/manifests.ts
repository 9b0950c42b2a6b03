// Reads Kubernetes manifests from files, directories and stdin: YAML (multi-document) or JSON,
// `kind: List` and every other `*List` kind with `items` expanded, each object with the line it
// starts on. Bad input never stops the read: it becomes an error entry and the rest goes on.
import { execFile } from 'node:child_process';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
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

/** Input that is not meant to be a Kubernetes object (a values file, a Helm template, a kustomization): counted, not judged. */
export interface ManifestSkip {
  source: string;
  file: string;
  skipped: string;
}

export type ManifestEntry = ManifestObject | ManifestError | ManifestSkip;

export function isManifestError(entry: ManifestEntry): entry is ManifestError {
  return 'error' in entry;
}

export function isManifestSkip(entry: ManifestEntry): entry is ManifestSkip {
  return 'skipped' in entry;
}

export interface LoadOptions {
  /** Reads all of stdin (for the path `-`); the default reads process.stdin. */
  readStdin?: () => Promise<string>;
  /** Name of stdin in sources (default `<stdin>`). */
  stdinName?: string;
  /** Paths (as found, and their base names) matching one of these are left out (`--exclude`). */
  exclude?: readonly RegExp[];
  /** Helm charts to render with `helm template` and read (`--helm-chart`). */
  helmCharts?: readonly HelmChart[];
}

export interface HelmChart {
  dir: string;
  /** Values files, in order (`--values`). */
  values: readonly string[];
  /** The helm binary (default `helm` on PATH). */
  helm?: string;
  /** The release namespace (`helm template --namespace`). */
  namespace?: string;
}

/** `helm template` of a chart, as the objects it renders; never a shell, bounded in time and size. */
export function renderHelmChart(chart: HelmChart): Promise<string> {
  const helm = chart.helm ?? 'helm';
  const args = [
    'template',
    'bulwark-scan',
    chart.dir,
    ...(chart.namespace ? ['--namespace', chart.namespace] : []),
    ...chart.values.flatMap((v) => ['--values', v]),
  ];
  return new Promise((resolve, reject) => {
    execFile(helm, args, { maxBuffer: MAX_FILE_BYTES, timeout: 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ENOENT') return reject(new Error(`${helm} not found: install helm (https://helm.sh) or give its path with --helm PATH`));
      if (e.killed) return reject(new Error(`helm template ${chart.dir} took longer than 120 s`));
      const why =
        String(stderr)
          .trim()
          .split('\n')
          .find((l) => l.trim() !== '') ?? e.message;
      reject(new Error(`helm template ${chart.dir} failed: ${why.slice(0, 500)}`));
    });
  });
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
  const exclude = options.exclude ?? [];
  let stdinRead = false;
  for (const path of paths) {
    // A path that yields no object at all is an error (a wrong path must not pass CI).
    let objects = 0;
    let errors = 0;
    let skipped = 0;
    const count = (entry: ManifestEntry): ManifestEntry => {
      if (isManifestError(entry)) errors++;
      else if (isManifestSkip(entry)) skipped++;
      else objects++;
      return entry;
    };
    const name = path === STDIN_PATH ? stdinName : path;
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
      for (const entry of parseManifests(text, stdinName)) yield count(entry);
    } else for await (const entry of fileEntries(path, exclude)) yield count(entry);
    if (objects === 0 && errors === 0) yield noObjectError(name, skipped);
  }
  for (const chart of options.helmCharts ?? []) {
    const name = `helm template ${chart.dir}`;
    let text: string;
    try {
      text = await renderHelmChart(chart);
    } catch (err) {
      yield { source: chart.dir, file: chart.dir, error: (err as Error).message };
      continue;
    }
    let objects = 0;
    let skipped = 0;
    for (const entry of parseManifests(text, name)) {
      if (isManifestSkip(entry)) skipped++;
      else if (!isManifestError(entry)) objects++;
      yield entry;
    }
    if (objects === 0) yield noObjectError(name, skipped);
  }
}

function noObjectError(name: string, skipped: number): ManifestError {
  const note = skipped > 0 ? ` (${skipped} ${skipped === 1 ? 'file or document' : 'files or documents'} skipped as not Kubernetes objects: -v lists them)` : '';
  return { source: name, file: name, error: `no Kubernetes object found${note}` };
}

/** The entries of one path argument: its files (directories walked), each read and parsed. */
async function* fileEntries(path: string, exclude: readonly RegExp[]): AsyncGenerator<ManifestEntry> {
  for await (const file of manifestFiles(path, exclude)) {
    if (typeof file !== 'string') {
      yield file;
      continue;
    }
    const byName = skippedByName(basename(file));
    if (byName) {
      yield { source: file, file, skipped: byName };
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

/** Files that hold no Kubernetes objects by their name alone (kustomize's and Helm's own files). */
function skippedByName(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (lower === 'kustomization.yaml' || lower === 'kustomization.yml' || name === 'Kustomization')
    return 'a kustomization (render it: kustomize build DIR | bulwark scan -)';
  if (lower === 'chart.yaml' || lower === 'chart.lock') return 'Helm chart metadata';
  return undefined;
}

/** Whether `path` matches an --exclude glob, by its path as found or its base name. */
function excluded(path: string, exclude: readonly RegExp[]): boolean {
  if (exclude.length === 0) return false;
  const name = basename(path);
  return exclude.some((re) => re.test(path) || re.test(name) || re.test(path.replace(/^\.\//, '')));
}

type FileItem = string | ManifestError | ManifestSkip;

/** The files a path stands for: itself, or the manifest files under it; or an error or skip entry. */
async function* manifestFiles(path: string, exclude: readonly RegExp[]): AsyncGenerator<FileItem> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    yield { source: path, file: path, error: `cannot read: ${describeIoError(err)}` };
    return;
  }
  if (!info.isDirectory()) {
    yield path; // a file the user named is read whatever its extension (and whatever --exclude says)
    return;
  }
  let found = 0;
  for await (const entry of walk(path, new Set(), exclude, undefined)) {
    if (typeof entry === 'string' || 'skipped' in entry) found++;
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

/**
 * The manifest files under `dir`, in name order. Inside a Helm chart (a folder with Chart.yaml)
 * the templates, subcharts and values files are not manifests: they are skipped with a reason
 * (render the chart with --helm-chart); its crds/ folder holds plain objects and is read.
 */
async function* walk(dir: string, visited: Set<string>, exclude: readonly RegExp[], chart: string | undefined): AsyncGenerator<FileItem> {
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
  const isChart = names.includes('Chart.yaml');
  for (const name of names) {
    if (name.startsWith('.') || name === 'node_modules') continue;
    const child = join(dir, name);
    if (excluded(child, exclude)) continue;
    let info;
    try {
      info = await stat(child);
    } catch (err) {
      // A dangling symlink named like a manifest is worth a word; anything else is not ours.
      if (isManifestName(name)) yield { source: child, file: child, error: `cannot read: ${describeIoError(err)}` };
      continue;
    }
    if (isChart && (name === 'templates' || name === 'charts') && info.isDirectory()) {
      for await (const inner of walk(child, visited, exclude, dir)) {
        yield typeof inner === 'string'
          ? { source: inner, file: inner, skipped: `part of the Helm chart ${dir} (render it: bulwark scan --helm-chart ${dir})` }
          : inner;
      }
      continue;
    }
    if (isChart && info.isFile() && /^values.*\.(ya?ml|json)$/i.test(name)) {
      yield { source: child, file: child, skipped: `values of the Helm chart ${dir}` };
      continue;
    }
    if (info.isDirectory()) yield* walk(child, visited, exclude, chart);
    else if (info.isFile() && (isManifestName(name) || (chart !== undefined && /\.(tpl|txt)$/.test(name)))) yield child;
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
  // Set when the text looked like JSON and JSON.parse refused it: the error then says "invalid JSON".
  let jsonError: string | undefined;
  const start = firstNonSpace(text);
  if (start >= 0 && text[start] === '{') {
    // JSON: JSON.parse is two orders of magnitude faster than the YAML parser on big
    // `kubectl get -o json` lists. What it rejects falls through to YAML (which reads flow style).
    let value: unknown;
    let parsed = true;
    try {
      value = JSON.parse(text);
    } catch (err) {
      parsed = false;
      jsonError = (err as Error).message;
    }
    if (!parsed && extname(file).toLowerCase() === '.json') {
      // A .json file is JSON: no second reading as YAML flow style (which would take trailing commas).
      const at = /position (\d+)/.exec(jsonError ?? '');
      const pos = positionAt(text, at ? Number(at[1]) : start);
      yield errorAt(file, pos.line, pos.column, `invalid JSON: ${jsonError}`);
      return;
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
  const helmTemplate = text.includes('{{');
  for (const doc of composer.compose(parser.parse(text))) {
    const error = doc.errors[0];
    if (error && helmTemplate) {
      const pos = lineCounter.linePos(error.pos[0]);
      yield errorAt(file, pos.line, pos.col, 'a Helm template ({{ … }}), not YAML yet: render the chart first (bulwark scan --helm-chart DIR)');
      return;
    }
    if (error && (jsonError !== undefined || extname(file).toLowerCase() === '.json')) {
      const pos = lineCounter.linePos(error.pos[0]);
      yield errorAt(file, pos.line, pos.col, `invalid JSON: ${jsonError ?? error.message.split('\n')[0]}`);
      return;
    }
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
  if (value.kind === undefined && value.apiVersion === undefined && value.metadata === undefined) {
    // A values file, a config file, a JSON Schema: not meant to be a Kubernetes object (one with
    // metadata but no kind is a broken manifest, and an error).
    yield { source: `${file}:${line}:${column}`, file, skipped: 'not a Kubernetes object (no apiVersion, kind or metadata)' };
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
