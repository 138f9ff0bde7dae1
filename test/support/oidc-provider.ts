/**
 * A real OpenID provider (`oidc-provider`, the certified one) on loopback,
 * set up the way a team would for an API: the resource indicators feature
 * (RFC 8707) issues JWT access tokens (RFC 9068) for one resource, a tenant
 * claim is added with `extraTokenClaims`, and service clients use the client
 * credentials grant.
 *
 * Plain http on 127.0.0.1 needs nothing special in v9 (the issuer only has to
 * be a web URI); only cookies care about TLS, and this grant sets none.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from "jose";
import Provider from "oidc-provider";

/** A service client and the tenant its tokens carry. */
export interface ProviderClient {
  clientId: string;
  clientSecret: string;
  /** Value of the tenant claim (`org_id`) in its access tokens. */
  tenant: string;
  /** Access token lifetime in seconds. Default 300. */
  accessTokenTTL?: number;
}

/** Options of {@link startOidcProvider}. */
export interface OidcProviderOptions {
  /** The API's resource indicator: the `aud` of every access token. */
  resource: string;
  /** Scopes the resource server offers. */
  scopes: string[];
  clients: ProviderClient[];
}

/** A running provider. */
export interface RunningOidcProvider {
  issuer: string;
  /** Private signing JWKs, newest (the signing one) first. */
  keys: JWK[];
  /** When the key set was last fetched (ms since epoch), or 0. */
  lastJwksFetch(): number;
  /** A client-credentials access token for `clientId`. */
  token(clientId: string, scope?: string): Promise<string>;
  /** POST the token to the revocation endpoint (RFC 7009); returns the answer. */
  revoke(clientId: string, token: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /**
   * Key rotation the way a provider does it: a new key is put in front (it
   * signs from now on) and the old one stays published. The provider is
   * reconfigured on the same port with the new key set.
   */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: "RS256", use: "sig" };
}

/**
 * Start the provider on a free port of 127.0.0.1.
 *
 * @example
 * const op = await startOidcProvider({ resource: "https://api.example", scopes: ["threads:read"], clients: [...] });
 * const token = await op.token("acme-service");
 */
export async function startOidcProvider(options: OidcProviderOptions): Promise<RunningOidcProvider> {
  const keys: JWK[] = [await newSigningKey()];
  const clients = new Map(options.clients.map((c) => [c.clientId, c]));
  let lastJwksFetch = 0;
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  const build = () => {
    const provider = new Provider(issuer, {
      jwks: { keys: structuredClone(keys) },
      clients: options.clients.map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        grant_types: ["client_credentials"],
        redirect_uris: [],
        response_types: [],
      })),
      features: {
        clientCredentials: { enabled: true },
        devInteractions: { enabled: false },
        revocation: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => options.resource,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource, client) => {
            if (resource !== options.resource) throw new Error("unknown resource");
            return {
              scope: options.scopes.join(" "),
              audience: options.resource,
              accessTokenTTL: clients.get(client.clientId)?.accessTokenTTL ?? 300,
              accessTokenFormat: "jwt",
              jwt: { sign: { alg: "RS256" } },
            };
          },
        },
      },
      // The tenant claim: what an Auth0 Action or an Okta claim rule would add.
      extraTokenClaims: (_ctx, token) => {
        const clientId = (token as { clientId?: string }).clientId;
        const tenant = clientId ? clients.get(clientId)?.tenant : undefined;
        return tenant ? { org_id: tenant } : undefined;
      },
      ttl: { ClientCredentials: (_ctx, token, client) => clients.get(client.clientId)?.accessTokenTTL ?? 300 },
    });
    provider.use(async (ctx, next) => {
      if (ctx.path === "/jwks") lastJwksFetch = Date.now();
      await next();
    });
    return provider.callback();
  };
  server.on("request", build());

  const basic = (clientId: string) => {
    const client = clients.get(clientId);
    if (!client) throw new TypeError(`unknown client "${clientId}"`);
    return `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString("base64")}`;
  };

  return {
    issuer,
    keys,
    lastJwksFetch: () => lastJwksFetch,
    async token(clientId, scope = options.scopes.join(" ")) {
      const response = await fetch(`${issuer}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(clientId) },
        body: new URLSearchParams({ grant_type: "client_credentials", scope, resource: options.resource }),
      });
      const body = (await response.json()) as { access_token?: string; error?: string };
      if (!response.ok || !body.access_token) throw new Error(`token endpoint answered ${response.status} ${body.error ?? ""}`);
      return body.access_token;
    },
    async revoke(clientId, token) {
      const response = await fetch(`${issuer}/token/revocation`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(clientId) },
        body: new URLSearchParams({ token, token_type_hint: "access_token" }),
      });
      const text = await response.text();
      return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    async rotate() {
      keys.unshift(await newSigningKey());
      // A new Provider instance with the new key set takes over the same
      // listener: the discovery document and issuer are unchanged.
      server.removeAllListeners("request");
      server.on("request", build());
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
