/**
 * The result of {@link readBoundedBody}: the whole body, or why reading stopped.
 */
export type BoundedBody = { kind: "read"; bytes: Uint8Array } | { kind: "too-large" } | { kind: "stopped" };

/**
 * Read a body stream to its end, keeping at most `limit` bytes: the cap is
 * enforced while streaming, so a lying or absent `Content-Length` does not
 * help a sender. `inspect` sees each chunk as it arrives and may stop the read
 * early by returning `true` (a nesting scanner, for example). On either stop
 * the stream is cancelled, not awaited: cancelling one branch of a tee settles
 * only once both branches are cancelled. A stream error is thrown as is.
 *
 * Shared by the key fetch (`src/verify/fetch-json.ts`) and the route guard's
 * body read (`src/langgraph/create-route-guard.ts`).
 *
 * @example
 * const body = await readBoundedBody(response.body, 256 * 1024);
 * if (body.kind === "read") JSON.parse(new TextDecoder().decode(body.bytes));
 */
export async function readBoundedBody(
  body: ReadableStream<Uint8Array>,
  limit: number,
  inspect?: (chunk: Uint8Array) => boolean,
): Promise<BoundedBody> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit || inspect?.(value)) {
      reader.cancel().catch(() => undefined);
      return size > limit ? { kind: "too-large" } : { kind: "stopped" };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { kind: "read", bytes };
}
