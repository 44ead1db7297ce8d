import type { LoggerService } from '@nestjs/common';
import { type Logger, type LevelWithSilent, pino, type DestinationStream } from 'pino';

/**
 * A Nest LoggerService that writes one JSON object per line through pino: `level`, `time`,
 * `service`, `context` and `msg`, plus any fields passed as an object
 * (`logger.log({ msg: 'run started', runId })`). Errors carry their stack in `err`.
 */
export class PinoLoggerService implements LoggerService {
  readonly pino: Logger;

  constructor(service: string, level: LevelWithSilent = 'info', destination?: DestinationStream) {
    const options = {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
    };
    this.pino = destination ? pino(options, destination) : pino(options);
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest, true);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest, true);
  }

  /** Nest passes the context as the last string argument; `error` may pass a stack before it. */
  private write(level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace', message: unknown, rest: unknown[], withStack = false): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const params = [...rest];
    const context = params.length && typeof params.at(-1) === 'string' ? (params.pop() as string) : undefined;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (withStack && typeof params[0] === 'string' && params[0].includes('\n    at ')) fields.stack = params.shift();
    if (params.length) fields.params = params;
    if (message instanceof Error) this.pino[level]({ ...fields, err: message }, message.message);
    else if (message !== null && typeof message === 'object') {
      const { msg, ...rest } = message as Record<string, unknown>;
      this.pino[level]({ ...fields, ...rest }, typeof msg === 'string' ? msg : '');
    } else this.pino[level](fields, String(message));
  }
}
