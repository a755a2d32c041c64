import { createLogger, type Logger } from '../../lib/logger';

/**
 * A real pino logger whose lines are kept instead of printed: `raw` as pino
 * wrote them, `lines` parsed. INFO by default, the level the API and the
 * worker log at outside tests.
 */
export function capturingLogger(level = 'info'): { logger: Logger; lines: Record<string, unknown>[]; raw: string[] } {
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const write = (line: string) => {
    raw.push(line);
    lines.push(JSON.parse(line));
  };
  return { logger: createLogger({ level }, { write }), lines, raw };
}
