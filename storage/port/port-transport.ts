/**
 * The storage service over a MessagePort: the same service definition, proto messages, handlers
 * and status codes as gRPC, carried between two threads of one process instead of over HTTP/2 on
 * loopback (as grpc-java's in-process transport). `all` mode runs storage in a worker thread; a
 * call costs there ~50 µs of CPU instead of ~0.5 ms through grpc-js on both ends.
 *
 * - servePort (storage thread) dispatches calls to the handlers createStorageService builds for
 *   the gRPC server, with call objects that have what those handlers use.
 * - PortTransport (caller's thread) offers the two grpc.Client methods the storage client uses,
 *   so createGrpcStorageClient (retries, refs, Select decoding) is the same code on both transports.
 *
 * Wire: {t:'call', id, path, bytes, deadlineMs} and {t:'cancel', id} one way; per call any number
 * of {t:'msg', id, bytes} then exactly one {t:'end', id} or {t:'err', id, code, details, md} back.
 * Message bytes move (transferred), never copied, unless they share a pooled ArrayBuffer.
 */
import { EventEmitter } from 'node:events';
import type { MessagePort } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';

type CallMsg = { readonly t: 'call'; readonly id: number; readonly path: string; readonly bytes: Uint8Array; readonly deadlineMs: number };
type CancelMsg = { readonly t: 'cancel'; readonly id: number };
type ReplyMsg =
  | { readonly t: 'msg'; readonly id: number; readonly bytes: Uint8Array }
  | { readonly t: 'end'; readonly id: number }
  | { readonly t: 'err'; readonly id: number; readonly code: number; readonly details: string; readonly md: readonly (readonly [string, string])[] };

/** `bytes` as a Uint8Array that owns its whole ArrayBuffer, so transferring it detaches nothing else (Buffers may share a pool). */
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function post(port: MessagePort, msg: CallMsg | CancelMsg | ReplyMsg): void {
  if ((msg.t === 'call' || msg.t === 'msg') && msg.bytes.byteLength > 0) port.postMessage(msg, [msg.bytes.buffer as ArrayBuffer]);
  else port.postMessage(msg);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A grpc ServiceError as grpc-js builds one: what the storage client maps back to an AppError. */
function serviceError(code: number, details: string, md: readonly (readonly [string, string])[] = []): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  for (const [k, v] of md) metadata.add(k, v);
  return Object.assign(new Error(`${code} ${grpc.status[code] ?? ''}: ${details}`), { code, details, metadata });
}

// ---------------------------------------------------------------------------------------------
// Storage thread

/** What the handlers see of a call (the members of grpc-js's server call objects they use). */
class PortServerCall extends EventEmitter {
  cancelled = false;
  readonly metadata = new grpc.Metadata();
  constructor(
    readonly request: unknown,
    private readonly _deadline: Date | number,
    private readonly _send: (reply: ReplyMsg) => void,
    private readonly _id: number,
    private readonly _serialize: (value: unknown) => Buffer,
  ) {
    super();
    // A handler reports a stream's failure by emitting 'error' (as on a grpc-js stream).
    this.on('error', (err: Partial<grpc.ServiceError>) => this._fail(err));
  }

  getPeer(): string {
    return 'in-process';
  }

  getDeadline(): Date | number {
    return this._deadline;
  }

  sendMetadata(): void {}

  /** Sends one stream message; no backpressure (the caller drains as messages arrive). */
  write(value: unknown): boolean {
    if (!this.cancelled) this._send({ t: 'msg', id: this._id, bytes: owned(this._serialize(value)) });
    return true;
  }

  end(): void {
    if (!this.cancelled) this._send({ t: 'end', id: this._id });
  }

  _fail(err: Partial<grpc.ServiceError>): void {
    if (this.cancelled) return;
    const md: [string, string][] = [];
    const map = err.metadata?.getMap() ?? {};
    for (const [k, v] of Object.entries(map)) if (typeof v === 'string') md.push([k, v]);
    this._send({ t: 'err', id: this._id, code: err.code ?? grpc.status.UNKNOWN, details: err.details ?? err.message ?? '', md });
  }
}

/** A port being served; close() stops taking calls (in-flight ones still answer). */
export interface ServedPort {
  close(): void;
}

/** Serves `handlers` (as registered with a grpc.Server for `definition`) on `port`. */
export function servePort(port: MessagePort, definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): ServedPort {
  const methods = new Map<string, { def: grpc.MethodDefinition<unknown, unknown>; handler: unknown }>();
  for (const [name, def] of Object.entries(definition)) methods.set(def.path, { def, handler: handlers[name] });
  const calls = new Map<number, PortServerCall>();
  let closed = false;
  const send = (reply: ReplyMsg): void => {
    if (reply.t !== 'msg') calls.delete(reply.id);
    post(port, reply);
  };
  port.on('message', (msg: CallMsg | CancelMsg) => {
    if (msg.t === 'cancel') {
      const call = calls.get(msg.id);
      if (call === undefined) return;
      calls.delete(msg.id);
      call.cancelled = true;
      call.emit('cancelled');
      return;
    }
    const m = methods.get(msg.path);
    if (closed || m === undefined) {
      const why = closed ? 'storage is shutting down' : `unknown method ${msg.path}`;
      post(port, { t: 'err', id: msg.id, code: closed ? grpc.status.UNAVAILABLE : grpc.status.UNIMPLEMENTED, details: why, md: [] });
      return;
    }
    const { def, handler } = m;
    let request: unknown;
    try {
      request = def.requestDeserialize(asBuffer(msg.bytes));
    } catch (err) {
      post(port, { t: 'err', id: msg.id, code: grpc.status.INTERNAL, details: `request decode failed: ${String(err)}`, md: [] });
      return;
    }
    const call = new PortServerCall(request, msg.deadlineMs, send, msg.id, def.responseSerialize as (v: unknown) => Buffer);
    calls.set(msg.id, call);
    if (def.responseStream) {
      (handler as (c: PortServerCall) => void)(call);
    } else {
      (handler as (c: PortServerCall, cb: (err: Partial<grpc.ServiceError> | null, value?: unknown) => void) => void)(call, (err, value) => {
        if (err !== null && err !== undefined) call._fail(err);
        else if (!call.cancelled) {
          call.write(value);
          call.end();
        }
      });
    }
  });
  return {
    close() {
      closed = true;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Caller's thread

/** A reply message that failed to decode, as the INTERNAL error the call ends with. */
class ReplyDecodeError {
  constructor(readonly error: grpc.ServiceError) {}
}

/** `deserialize(bytes)`, or the call's error when the bytes do not decode (never throws). */
function decodeReply<Res>(deserialize: (bytes: Buffer) => Res, bytes: Buffer): Res | ReplyDecodeError {
  try {
    return deserialize(bytes);
  } catch (err) {
    return new ReplyDecodeError(serviceError(grpc.status.INTERNAL, `response decode failed: ${String(err)}`));
  }
}

/** What a call does with its replies: any number of messages, then exactly one end or error. */
interface CallListener {
  onMsg(bytes: Buffer): void;
  onEnd(): void;
  onErr(err: grpc.ServiceError): void;
}

interface PendingCall extends CallListener {
  /** Its deadline timer (null: no deadline). */
  timer: NodeJS.Timeout | null;
}

/** The caller's end of a served port (see servePort). */
export class PortTransport {
  private readonly _pending = new Map<number, PendingCall>();
  private _nextId = 1;
  private _failure: string | null = null;

  constructor(private readonly _port: MessagePort) {
    _port.on('message', (reply: ReplyMsg) => {
      if (reply.t === 'msg') {
        this._pending.get(reply.id)?.onMsg(asBuffer(reply.bytes));
        return;
      }
      const p = this._take(reply.id);
      if (p === undefined) return;
      if (reply.t === 'end') p.onEnd();
      else p.onErr(serviceError(reply.code, reply.details, reply.md));
    });
  }

  /** Ends call `id`'s wait (removed, deadline timer cleared); undefined when it already ended. */
  private _take(id: number): PendingCall | undefined {
    const p = this._pending.get(id);
    if (p === undefined) return undefined;
    this._pending.delete(id);
    if (p.timer !== null) clearTimeout(p.timer);
    return p;
  }

  /** Fails every call in flight and every later one with UNAVAILABLE (the storage thread is gone). */
  fail(reason: string): void {
    this._failure = reason;
    for (const id of [...this._pending.keys()]) this._take(id)?.onErr(serviceError(grpc.status.UNAVAILABLE, reason));
  }

  close(): void {
    this.fail('storage client closed');
    this._port.close();
  }

  /**
   * Starts a call: `p` hears its replies until its end, an error, the deadline or a cancel,
   * whichever comes first (exactly one of onEnd/onErr). Returns the cancel function.
   */
  private _start<Req>(path: string, serialize: (value: Req) => Buffer, request: Req, options: grpc.CallOptions, p: CallListener): () => void {
    const id = this._nextId++;
    const stop = (code: number, details: string): void => {
      if (this._take(id) === undefined) return;
      post(this._port, { t: 'cancel', id });
      p.onErr(serviceError(code, details));
    };
    if (this._failure !== null) {
      const reason = this._failure;
      queueMicrotask(() => p.onErr(serviceError(grpc.status.UNAVAILABLE, reason)));
      return () => {};
    }
    let bytes: Uint8Array;
    try {
      bytes = owned(serialize(request));
    } catch (err) {
      queueMicrotask(() => p.onErr(serviceError(grpc.status.INTERNAL, `request encode failed: ${String(err)}`)));
      return () => {};
    }
    const deadline = options.deadline;
    const deadlineMs = deadline === undefined ? Infinity : deadline instanceof Date ? deadline.getTime() : deadline;
    const timer = Number.isFinite(deadlineMs) ? setTimeout(() => stop(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'), Math.max(0, deadlineMs - Date.now())) : null;
    this._pending.set(id, { onMsg: p.onMsg, onEnd: p.onEnd, onErr: p.onErr, timer });
    post(this._port, { t: 'call', id, path, bytes, deadlineMs });
    return () => stop(grpc.status.CANCELLED, 'Cancelled on client');
  }

  makeUnaryRequest<Req, Res>(
    path: string,
    serialize: (value: Req) => Buffer,
    deserialize: (bytes: Buffer) => Res,
    request: Req,
    _metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<Res>,
  ): { cancel(): void } {
    let last: Buffer | null = null;
    const cancel = this._start(path, serialize, request, options, {
      onMsg: (b) => (last = b),
      onEnd: () => {
        if (last === null) {
          callback(serviceError(grpc.status.INTERNAL, 'no response message'));
          return;
        }
        const value = decodeReply(deserialize, last);
        if (value instanceof ReplyDecodeError) callback(value.error);
        else callback(null, value);
      },
      onErr: (e) => callback(e),
    });
    return { cancel };
  }

  makeServerStreamRequest<Req, Res>(
    path: string,
    serialize: (value: Req) => Buffer,
    deserialize: (bytes: Buffer) => Res,
    request: Req,
    _metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<Res> {
    const stream = new EventEmitter() as EventEmitter & { cancel(): void };
    const cancel = this._start(path, serialize, request, options, {
      onMsg: (b) => {
        // Never let a bad message throw out of the port's message handler.
        const value = decodeReply(deserialize, b);
        if (value instanceof ReplyDecodeError) {
          stream.emit('error', value.error);
          stream.cancel();
        } else {
          stream.emit('data', value);
        }
      },
      onEnd: () => {
        stream.emit('status', { code: grpc.status.OK, details: 'OK', metadata: new grpc.Metadata() });
        stream.emit('end');
      },
      onErr: (e) => stream.emit('error', e),
    });
    stream.cancel = cancel;
    // Only the EventEmitter side of a ClientReadableStream and cancel() are used by the storage client.
    return stream as unknown as grpc.ClientReadableStream<Res>;
  }
}

/**
 * The grpc.Client methods the storage client uses (see createGrpcStorageClient): a grpc.Client and
 * a PortTransport both have them.
 */
export type RpcTransport = Pick<PortTransport, 'makeUnaryRequest' | 'makeServerStreamRequest' | 'close'>;
