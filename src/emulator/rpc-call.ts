// One RPC query, from its bytes to the handler: reads it with the TL codec (any layer), unwraps
// the query wrappers as Telegram does (invokeWithLayer sets the layer answers are written in,
// remembered per auth key; initConnection, invokeWithoutUpdates, invokeAfterMsg(s) pass the
// query through), counts it in /stats and runs the method's handler.
import { findHandler, RpcFault, type RpcContext, type RpcResult } from './rpc-methods';
import { tl, TlError, TlReader, TlUnknownConstructorError, type TlObject, type TlValue } from './tl';

/** A query whose TL is malformed (not an unknown method: that is an rpc_error). */
export class MalformedQueryError extends Error {
  readonly code = 'EMU_MALFORMED_QUERY';
}

const PASS_THROUGH = new Set(['initConnection', 'invokeWithoutUpdates', 'invokeAfterMsg', 'invokeAfterMsgs']);

export interface CallTarget {
  /** Called for invokeWithLayer: false when the layer is not one the emulator serves. */
  declareLayer(layer: number): boolean;
  context(): RpcContext;
  countCall(method: string): void;
}

/**
 * Reads the query. A constructor the emulator does not know (a method of another layer, say) is
 * Telegram's 400 INPUT_METHOD_INVALID_<id>; bytes that are not TL are a MalformedQueryError.
 */
export function readQuery(body: Buffer): TlObject {
  try {
    return new TlReader(tl(), body).tlObject();
  } catch (err) {
    if (err instanceof TlUnknownConstructorError) throw new RpcFault(400, `INPUT_METHOD_INVALID_${err.id}`);
    if (err instanceof TlError) throw new MalformedQueryError(err.message);
    throw err;
  }
}

/** Unwraps and runs one query; returns the innermost method's name and its result. */
export async function runQuery(query: TlObject, target: CallTarget): Promise<{ method: string; result: RpcResult }> {
  let q: TlValue = query;
  for (;;) {
    const o = q as TlObject;
    if (o._ === 'invokeWithLayer') {
      if (!target.declareLayer(Number(o.layer))) throw new RpcFault(400, 'CONNECTION_LAYER_INVALID');
    } else if (!PASS_THROUGH.has(o._)) break;
    q = o.query;
    if (typeof q !== 'object' || q === null || Array.isArray(q) || Buffer.isBuffer(q)) throw new MalformedQueryError(`${o._} without a query`);
  }
  const inner = q as TlObject;
  target.countCall(inner._);
  const handler = findHandler(inner._);
  if (!handler) {
    const c = tl().definitions(inner._)[0];
    throw new RpcFault(400, `INPUT_METHOD_INVALID_${c?.id ?? 0}`);
  }
  return { method: inner._, result: await handler(inner, target.context()) };
}
