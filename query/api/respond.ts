/**
 * The Prometheus API envelope (http-api.md §1): `{"status":"success","data":…[,"warnings":[…]]}`
 * or `{"status":"error","errorType":…,"error":…}`. The only place the query API writes a body;
 * statuses come from common/errors.ts.
 */
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import { AppError, ErrorKind, toAppError, toHttpStatus, toPromErrorType } from '../../common/errors.js';
import { formatStringArrayJson, jsonString } from './format.js';

const JSON_CONTENT_TYPE = 'application/json';

/** The success envelope around pre-rendered `data` JSON; `warnings` only when non-empty. */
export function successBody(dataJson: string, warnings: readonly string[] = []): string {
  if (warnings.length === 0) return `{"status":"success","data":${dataJson}}`;
  return `{"status":"success","data":${dataJson},"warnings":${formatStringArrayJson(warnings)}}`;
}

/** The error envelope for an AppError. */
export function errorBody(err: AppError): string {
  return `{"status":"error","errorType":${jsonString(toPromErrorType(err))},"error":${jsonString(err.message)}}`;
}

/** Sends a 200 success envelope around pre-rendered `data` JSON. */
export function sendSuccess(reply: FastifyReply, dataJson: string, warnings: readonly string[] = []): FastifyReply {
  return reply.code(200).header('content-type', JSON_CONTENT_TYPE).send(successBody(dataJson, warnings));
}

/**
 * Sends the error envelope for anything thrown. Unknown errors become `internal` (500) and are
 * logged with their stack at error level; 5xx AppErrors are logged at error, the rest at info.
 */
export function sendError(reply: FastifyReply, thrown: unknown, log: FastifyBaseLogger): FastifyReply {
  const err = toAppError(thrown);
  const status = toHttpStatus(err);
  if (!(thrown instanceof AppError)) {
    log.error({ err: thrown }, 'query api unexpected error');
  } else if (status >= 500) {
    log.error({ err: thrown, code: err.code }, 'query api error');
  } else {
    log.info({ code: err.code, status }, 'query api request rejected');
  }
  if (err.kind === ErrorKind.RateLimited) reply.header('retry-after', '1');
  return reply.code(status).header('content-type', JSON_CONTENT_TYPE).send(errorBody(err));
}

interface FastifyLikeError {
  readonly code?: string;
  readonly statusCode?: number;
  readonly message: string;
}

/**
 * Maps an error raised by Fastify itself (body parsing, size limits, content types) onto an
 * AppError so it can be rendered in the envelope; anything else goes through toAppError.
 */
export function fromFastifyError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as FastifyLikeError | null;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 0;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message.charAt(0).toLowerCase() + e.message.slice(1) : String(err);
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) return new AppError(ErrorKind.TooLarge, 'body-too-large', message);
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) return new AppError(ErrorKind.UnsupportedMedia, 'unsupported-media-type', message);
  if (status >= 400 && status < 500) return new AppError(ErrorKind.BadData, 'bad-request', message);
  return toAppError(err);
}
