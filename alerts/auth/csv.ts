// CSV records of kube-apiserver's token-file format, read with csv-parse the way Go's encoding/csv
// reads them for the API server: RFC 4180 quoting ("" escapes, quoted commas and newlines), any
// number of fields per record. Two extensions, both harmless to the apiserver format: blank lines
// and lines starting with `#` are skipped, and white space around fields is trimmed.
import { CsvError, parse } from 'csv-parse/sync';

export interface CsvRecord {
  fields: string[];
  /** The line the record starts on (1-based). */
  line: number;
}

/** A syntax error, with the line it was found on. */
export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'CsvSyntaxError';
  }
}

function describe(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'unterminated quoted field';
    case 'INVALID_OPENING_QUOTE':
      return 'a quote inside an unquoted field: quote the whole field ("…") and double inner quotes';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE': {
      const ch = /got "(.)"/.exec(err.message)?.[1];
      return `extraneous character ${ch !== undefined ? JSON.stringify(ch) : ''} after a closing quote`.replace('  ', ' ');
    }
    default:
      // csv-parse's own messages may quote field values (a token): name the code only.
      return `malformed CSV (${err.code})`;
  }
}

/** Every record of `text`; throws a CsvSyntaxError naming the line of the first syntax error. */
export function parseCsvRecords(text: string): CsvRecord[] {
  let rows: { record: string[]; info: { lines: number; raw?: string } }[];
  try {
    rows = parse(text, {
      bom: true,
      comment: '#',
      comment_no_infix: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      info: true,
      raw: true,
    }) as never;
  } catch (err) {
    if (err instanceof CsvError) {
      const line = typeof (err as { lines?: unknown }).lines === 'number' ? (err as unknown as { lines: number }).lines : undefined;
      throw new CsvSyntaxError(line, describe(err));
    }
    throw err;
  }
  return rows.map(({ record, info }) => {
    // info.lines is the line the record ends on; a quoted field may span lines.
    const inner = (info.raw ?? '').replace(/\r?\n$/, '').split('\n').length - 1;
    return { fields: record, line: info.lines - inner };
  });
}
