import type { Command } from 'commander';

export function registerScan(program: Command): void {
  void program;
}
