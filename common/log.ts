/**
 * Structured JSON logs (STYLE 2.7): one line per event with `ts, level, msg, component` plus
 * fields such as `tenant`, `reqId`, `err`. Fastify's own logger (pino) is configured to the same
 * shape with fastifyLoggerOptions; code outside Fastify uses jsonLogger.
 */

/** Log levels in increasing severity. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A structured log sink: `msg` is a greppable constant, variables go in `fields`. */
export type Log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

/** Field names whose values are never written (defence in depth: secrets must not reach logs). */
const REDACTED_FIELDS = new Set(['authorization', 'password', 'token', 'secret']);

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  let out = fields;
  for (const k of Object.keys(fields)) {
    if (REDACTED_FIELDS.has(k.toLowerCase())) {
      if (out === fields) out = { ...fields };
      out[k] = '[redacted]';
    }
  }
  return out;
}

/** A Log writing JSON lines to `write` (default stderr), dropping levels below `minLevel`. */
export function jsonLogger(component: string, minLevel: string = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Log {
  const min = Math.max(0, LOG_LEVELS.indexOf(minLevel as LogLevel));
  return (level, msg, fields = {}) => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg, component, ...redact(fields) })}\n`);
  };
}

/**
 * Options for Fastify's `logger` (pino) producing the same line shape: `ts` ISO time, `level` as a
 * word, `msg`, `component`; request lines carry Fastify's `reqId`. The Authorization header is
 * redacted should a request ever be logged whole.
 */
export function fastifyLoggerOptions(component: string, level: string): Record<string, unknown> {
  return {
    level,
    base: { component },
    messageKey: 'msg',
    timestamp: () => `,"ts":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: ['req.headers.authorization', 'headers.authorization'],
  };
}
