/**
 * Typed errors with the reasons and codes kube-apiserver uses, so a user (and a client)
 * can tell a missing object from a stale write from an invalid manifest.
 */
import { isKind, qualifiedResource } from './kinds.js';

export const Reason = {
  BadRequest: 'BadRequest',
  NotFound: 'NotFound',
  AlreadyExists: 'AlreadyExists',
  Conflict: 'Conflict',
  Invalid: 'Invalid',
  RequestEntityTooLarge: 'RequestEntityTooLarge',
  Forbidden: 'Forbidden',
  Timeout: 'Timeout',
  TooManyRequests: 'TooManyRequests',
  ServiceUnavailable: 'ServiceUnavailable',
  InternalError: 'InternalError',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export const REASON_CODES: Record<Reason, number> = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  AlreadyExists: 409,
  RequestEntityTooLarge: 413,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

/** Field cause reasons, as in metav1.CauseType. */
export const CauseType = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  Duplicate: 'FieldValueDuplicate',
  TypeInvalid: 'FieldValueTypeInvalid',
  TooLong: 'FieldValueTooLong',
  Forbidden: 'FieldValueForbidden',
} as const;
export type CauseType = (typeof CauseType)[keyof typeof CauseType];

export interface FieldCause {
  reason: CauseType;
  field: string;
  message: string;
}

/** The error as it travels on the wire (a trimmed metav1.Status). */
export interface WireError {
  reason: Reason;
  code: number;
  message: string;
  kind?: string;
  name?: string;
  causes?: FieldCause[];
  /** Seconds to wait before trying again (metav1.StatusDetails.retryAfterSeconds): set on 429. */
  retryAfterSeconds?: number;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly reason: Reason;
  readonly code: number;
  readonly causes: FieldCause[];
  readonly kind?: string;
  readonly objectName?: string;
  readonly retryAfterSeconds?: number;

  constructor(reason: Reason, message: string, opts: { causes?: FieldCause[]; kind?: string; name?: string; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.reason = reason;
    this.code = REASON_CODES[reason];
    this.causes = opts.causes ?? [];
    this.kind = opts.kind;
    this.objectName = opts.name;
    if (opts.retryAfterSeconds !== undefined) this.retryAfterSeconds = opts.retryAfterSeconds;
  }

  toWire(): WireError {
    const wire: WireError = { reason: this.reason, code: this.code, message: this.message };
    if (this.kind) wire.kind = this.kind;
    if (this.objectName) wire.name = this.objectName;
    if (this.causes.length) wire.causes = this.causes;
    if (this.retryAfterSeconds !== undefined) wire.retryAfterSeconds = this.retryAfterSeconds;
    return wire;
  }

  static fromWire(w: WireError): ApiError {
    const reason = (Object.values(Reason) as string[]).includes(w?.reason) ? w.reason : Reason.InternalError;
    const retryAfterSeconds = typeof w?.retryAfterSeconds === 'number' && w.retryAfterSeconds >= 0 ? w.retryAfterSeconds : undefined;
    return new ApiError(reason, String(w?.message ?? 'unknown error'), { causes: w?.causes, kind: w?.kind, name: w?.name, retryAfterSeconds });
  }

  static notFound(kind: string, name: string): ApiError {
    return new ApiError(Reason.NotFound, `${resourceOf(kind)} "${name}" not found`, { kind, name });
  }

  static alreadyExists(kind: string, name: string): ApiError {
    return new ApiError(Reason.AlreadyExists, `${resourceOf(kind)} "${name}" already exists`, { kind, name });
  }

  static conflict(kind: string, name: string): ApiError {
    return new ApiError(
      Reason.Conflict,
      `Operation cannot be fulfilled on ${resourceOf(kind)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { kind, name },
    );
  }

  static invalid(kind: string, name: string, causes: FieldCause[]): ApiError {
    const lines = causes.map((c) => `${c.field}: ${c.message}`);
    const head = `${kind} "${name || '<unknown>'}" is invalid`;
    const message = lines.length === 1 ? `${head}: ${lines[0]}` : `${head}: [${lines.join(', ')}]`;
    return new ApiError(Reason.Invalid, message, { causes, kind, name });
  }

  static badRequest(message: string): ApiError {
    return new ApiError(Reason.BadRequest, message);
  }
}

/** `deployments.apps` for a kind kubeact serves; a guessed lower-case plural for any other. */
function resourceOf(kind: string): string {
  return isKind(kind) ? qualifiedResource(kind) : `${kind.toLowerCase()}s`;
}

export function isApiError(e: unknown, reason?: Reason): e is ApiError {
  return e instanceof ApiError && (reason === undefined || e.reason === reason);
}

/** Turns anything thrown into an ApiError, keeping ApiErrors as they are. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError(Reason.InternalError, message, { cause: e });
}
