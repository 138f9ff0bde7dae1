/**
 * A loopback HTTP proxy in front of a test server that can shut its gate:
 * once a request matching `closeAfter` (method, path and the status it was
 * answered with) has been answered, every later request
 * is held (never forwarded, never answered) until the proxy stops. A test can
 * so stop a client right after its first deletion, however fast or loaded
 * the machine, instead of racing it with a signal.
 */
import { createServer, request as forward, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface GateProxy {
  /** The proxy's base URL (`http://127.0.0.1:<port>`). */
  url: string;
  /** How many requests are being held behind the shut gate. */
  held(): number;
  /** Resolves once the gate is shut (the matching request was answered). */
  shut: Promise<void>;
  stop(): Promise<void>;
}

export async function startGateProxy(target: string, closeAfter: (method: string, path: string, status: number) => boolean): Promise<GateProxy> {
  const upstream = new URL(target);
  const heldResponses = new Set<ServerResponse>();
  let gateShut = false;
  let onShut!: () => void;
  const shut = new Promise<void>((resolve) => (onShut = resolve));
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    if (gateShut) {
      heldResponses.add(outgoing);
      incoming.resume();
      return;
    }
    const proxied = forward(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        const matches = closeAfter(incoming.method ?? "GET", incoming.url ?? "/", answer.statusCode ?? 502);
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
        answer.on("end", () => {
          if (matches && !gateShut) {
            gateShut = true;
            onShut();
          }
        });
      },
    );
    proxied.on("error", () => outgoing.destroy());
    incoming.pipe(proxied);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    held: () => heldResponses.size,
    shut,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const response of heldResponses) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
