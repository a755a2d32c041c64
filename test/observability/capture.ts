import { createLogger, type Logger } from '../../lib/logger';

/** A real pino logger whose JSON lines are kept, parsed, instead of printed. */
export function capturingLogger(level = 'info'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}
