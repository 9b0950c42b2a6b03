// The JSON Schema of the configuration file, generated from the one schema, for editors
// (`# yaml-language-server: $schema=…`) and CI (`bulwark config schema`).
import { schemas, zod } from './schema.js';

export function configJsonSchema(): Record<string, unknown> {
  const schema = zod().toJSONSchema(schemas().configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    $id: 'https://bulwark.io/schemas/config.json',
    title: 'Bulwark configuration',
    description: 'The YAML configuration of bulwark serve, scan and audit scan (docs/configuration.md).',
    ...schema,
  };
}

interface Node {
  type?: unknown;
  description?: string;
  properties?: Record<string, Node>;
  anyOf?: Node[];
}

/** Every key path of the file (`store.retention.maxAge`) with its description, in schema order. */
export function configKeyPaths(schema: Record<string, unknown> = configJsonSchema()): { path: string; description: string }[] {
  const out: { path: string; description: string }[] = [];
  const walk = (node: Node, prefix: string): void => {
    const object = node.properties ? node : node.anyOf?.find((n) => n.properties);
    for (const [key, child] of Object.entries(object?.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      out.push({ path, description: child.description ?? '' });
      walk(child, path);
    }
  };
  walk(schema as Node, '');
  return out;
}
