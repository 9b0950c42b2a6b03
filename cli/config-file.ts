// Reads the YAML configuration named by --config (or none: the defaults).
import { readFileSync } from 'node:fs';
import { defaultConfig, parseConfig, type BulwarkConfig } from '../policies/config.js';
import { ConfigError } from '../core/errors.js';

export function loadConfigFile(path: string | undefined): BulwarkConfig {
  if (!path) return defaultConfig();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read the configuration: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseConfig(text, path);
}
