/**
 * The one error model. Every failure that crosses a module boundary is an AppError with a stable
 * `code` (kebab-case, never renamed or reused) and a `kind`. The table KIND_TABLE is the only place
 * that maps a kind to an HTTP status, a Prometheus `errorType`, a gRPC status code and retryability.
 */

/** Error kinds; see KIND_TABLE for how each maps onto transports. */
export const ErrorKind = {
  BadData: 'bad_data',
  SampleRejected: 'sample_rejected',
  TenantLimit: 'tenant_limit',
  TooLarge: 'too_large',
  UnsupportedMedia: 'unsupported_media',
  Unauthenticated: 'unauthenticated',
  Forbidden: 'forbidden',
  RateLimited: 'rate_limited',
  Execution: 'execution',
  NotFound: 'not_found',
  Timeout: 'timeout',
  Canceled: 'canceled',
  Unavailable: 'unavailable',
  Internal: 'internal',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

/** gRPC status codes we use (numbers from the gRPC spec; avoids importing grpc-js into common/). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

interface KindMapping {
  readonly http: number;
  readonly errorType: string;
  readonly grpc: number;
  readonly retryable: boolean;
}

/** THE table: kind → transport mappings. Nothing else chooses a status code. */
const KIND_TABLE: Readonly<Record<ErrorKind, KindMapping>> = {
  bad_data: { http: 400, errorType: 'bad_data', grpc: GrpcCode.INVALID_ARGUMENT, retryable: false },
  sample_rejected: { http: 400, errorType: 'bad_data', grpc: GrpcCode.INVALID_ARGUMENT, retryable: false },
  tenant_limit: { http: 400, errorType: 'bad_data', grpc: GrpcCode.FAILED_PRECONDITION, retryable: false },
  too_large: { http: 413, errorType: 'bad_data', grpc: GrpcCode.INVALID_ARGUMENT, retryable: false },
  unsupported_media: { http: 415, errorType: 'bad_data', grpc: GrpcCode.INVALID_ARGUMENT, retryable: false },
  unauthenticated: { http: 401, errorType: 'bad_data', grpc: GrpcCode.UNAUTHENTICATED, retryable: false },
  forbidden: { http: 403, errorType: 'bad_data', grpc: GrpcCode.PERMISSION_DENIED, retryable: false },
  rate_limited: { http: 429, errorType: 'unavailable', grpc: GrpcCode.RESOURCE_EXHAUSTED, retryable: true },
  execution: { http: 422, errorType: 'execution', grpc: GrpcCode.FAILED_PRECONDITION, retryable: false },
  not_found: { http: 404, errorType: 'not_found', grpc: GrpcCode.NOT_FOUND, retryable: false },
  timeout: { http: 503, errorType: 'timeout', grpc: GrpcCode.DEADLINE_EXCEEDED, retryable: true },
  canceled: { http: 499, errorType: 'canceled', grpc: GrpcCode.CANCELLED, retryable: false },
  unavailable: { http: 503, errorType: 'unavailable', grpc: GrpcCode.UNAVAILABLE, retryable: true },
  internal: { http: 500, errorType: 'internal', grpc: GrpcCode.INTERNAL, retryable: true },
};

/** A typed, user-facing error. `message` is lowercase, without trailing period. */
export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }
}

/** Bad parameter, invalid series, PromQL parse error. */
export function badData(code: string, message: string): AppError {
  return new AppError(ErrorKind.BadData, code, message);
}

/** Internal invariant broken: a bug, never bad input. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(`BUG: ${message}`);
    this.name = 'InvariantError';
  }
}

/** Converts anything thrown into an AppError; unknown errors become `internal`. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AppError(ErrorKind.Internal, 'internal', message, { cause: err });
}

/** HTTP status for an error (after toAppError). */
export function toHttpStatus(err: AppError): number {
  return KIND_TABLE[err.kind].http;
}

/** Prometheus API `errorType` for an error. */
export function toPromErrorType(err: AppError): string {
  return KIND_TABLE[err.kind].errorType;
}

/** gRPC status code for an error. */
export function toGrpcCode(err: AppError): number {
  return KIND_TABLE[err.kind].grpc;
}

/** Whether a sender should retry the request that failed with this error. */
export function isRetryable(err: AppError): boolean {
  return KIND_TABLE[err.kind].retryable;
}

/**
 * Rebuilds an AppError from a gRPC status. The server puts `kind` and `code` into trailing
 * metadata (`x-error-kind`, `x-error-code`); without them the gRPC code picks the kind.
 */
export function fromGrpc(grpcCode: number, details: string, kind?: string, code?: string): AppError {
  if (kind !== undefined && kind in KIND_TABLE) {
    return new AppError(kind as ErrorKind, code ?? kind, details);
  }
  switch (grpcCode) {
    case GrpcCode.INVALID_ARGUMENT:
      return new AppError(ErrorKind.BadData, 'storage-bad-request', details);
    case GrpcCode.DEADLINE_EXCEEDED:
      return new AppError(ErrorKind.Timeout, 'storage-timeout', `storage: ${details}`);
    case GrpcCode.CANCELLED:
      return new AppError(ErrorKind.Canceled, 'storage-canceled', `storage: ${details}`);
    case GrpcCode.RESOURCE_EXHAUSTED:
      return new AppError(ErrorKind.RateLimited, 'storage-overloaded', `storage: ${details}`);
    case GrpcCode.NOT_FOUND:
      return new AppError(ErrorKind.NotFound, 'storage-not-found', details);
    case GrpcCode.UNAVAILABLE:
      return new AppError(ErrorKind.Unavailable, 'storage-unavailable', `storage unavailable: ${details}`);
    default:
      return new AppError(ErrorKind.Internal, 'storage-internal', `storage: ${details}`);
  }
}

/** Cuts user-provided text echoed in messages to 200 characters. */
export function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
