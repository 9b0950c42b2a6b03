// Error types every module may throw or catch.

/** A configuration error: `source:line: key.path: what is wrong` (one line per problem). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
