/**
 * A local development issuer: an RSA signing key, its JWKS and an OpenID
 * discovery document served over loopback HTTP, and a signer for tokens.
 *
 * The `dev` and `token` commands (`npx langgraph-tenant-auth dev`, and
 * `npm run dev` / `npm run token` in this repository) use it with a key kept
 * on disk; tests use it with in-memory keys. It is for trying the package
 * before an identity provider is wired: a real deployment points
 * `AUTH_ISSUER` at its own provider. Only the bin loads it; no entry point
 * of the package exports it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload } from "jose";

/** A signing key with its public JWK. */
export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** Everything the dev issuer persists: one private JWK. */
interface StoredKey {
  privateJwk: JWK;
}

/** Options of {@link startLocalIssuer}. */
export interface LocalIssuerOptions {
  /** Port on 127.0.0.1. Default 0 (any free port). */
  port?: number;
  /** Folder keeping the private key between runs; omitted: a fresh in-memory key. */
  keyDir?: string;
  /** Audience tokens are issued for. Default `langgraph-dev`. */
  audience?: string;
  /** Algorithm of the generated key. Default RS256. */
  alg?: "RS256" | "PS256" | "ES256" | "EdDSA";
  /**
   * Replace the answer to a key set or discovery request (tests use it to
   * simulate a failing provider). Return `true` when it answered, `false` to
   * answer normally. Default: none.
   */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

/** A running local issuer. */
export interface LocalIssuer {
  /** `iss` of its tokens, e.g. `http://127.0.0.1:9400`. */
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** The keys currently published (the first one signs). */
  keys: SigningKey[];
  /** Requests served so far, by path. */
  hits: Map<string, number>;
  /** Sign a token; claims override the defaults (iss, aud, iat, exp in 1 h). */
  sign(claims?: JWTPayload, options?: SignOptions): Promise<string>;
  /** Publish a new signing key in front of the old ones (or instead of them). */
  rotate(options?: { dropOld?: boolean }): Promise<SigningKey>;
  /** The environment that points this package at the issuer. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

/** Options of one signature. */
export interface SignOptions {
  /** Lifetime in seconds from now. Default 3600. */
  expiresIn?: number;
  /** Sign with this key instead of the first. */
  key?: SigningKey;
  /** Extra protected-header fields. */
  header?: Record<string, unknown>;
}

/**
 * Generate a signing key; `kid` is its RFC 7638 thumbprint.
 *
 * @example
 * const key = await generateSigningKey("ES256");
 */
export async function generateSigningKey(alg: SigningKey["alg"] = "RS256"): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, alg, privateKey, publicJwk: { ...publicJwk, kid, alg, use: "sig" } };
}

async function loadOrCreateKey(dir: string, alg: SigningKey["alg"]): Promise<SigningKey> {
  const file = join(dir, "signing-key.json");
  try {
    const stored = JSON.parse(await readFile(file, "utf8")) as StoredKey;
    const jwk = stored.privateJwk;
    const privateKey = (await importJWK(jwk, jwk.alg, { extractable: true })) as CryptoKey;
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
    return { kid: jwk.kid!, alg: jwk.alg!, privateKey, publicJwk: { ...publicJwk, use: "sig" } };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const key = await generateSigningKey(alg);
  const privateJwk = { ...(await exportJWK(key.privateKey)), kid: key.kid, alg };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify({ privateJwk } satisfies StoredKey, null, 2), { mode: 0o600 });
  return key;
}

/**
 * The dev issuer's key without starting a server (for the `token` command):
 * the key kept in `keyDir`, created there (mode 0600) on first use.
 *
 * @example
 * const key = await loadDevSigningKey(".dev-issuer");
 */
export async function loadDevSigningKey(keyDir: string): Promise<SigningKey> {
  return loadOrCreateKey(keyDir, "RS256");
}

/**
 * Sign a token with a key (shared by the issuer and the `token` command):
 * `iat` now, `exp` in `expiresIn` seconds (default 3600); claims override both.
 *
 * @example
 * const token = await signToken(key, { iss, aud: "langgraph-dev", sub: "alice", org_id: "acme" });
 */
export async function signToken(
  key: SigningKey,
  claims: JWTPayload,
  options: { expiresIn?: number; header?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + (options.expiresIn ?? 3600), ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...options.header })
    .sign(key.privateKey);
}

/**
 * Start the issuer on 127.0.0.1.
 *
 * @example
 * const issuer = await startLocalIssuer();
 * const token = await issuer.sign({ sub: "alice", org_id: "acme", scope: "threads:read" });
 */
export async function startLocalIssuer(options: LocalIssuerOptions = {}): Promise<LocalIssuer> {
  const alg = options.alg ?? "RS256";
  const audience = options.audience ?? "langgraph-dev";
  const keys: SigningKey[] = [options.keyDir ? await loadOrCreateKey(options.keyDir, alg) : await generateSigningKey(alg)];
  const hits = new Map<string, number>();
  let issuer = "";

  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    try {
      if (options.intercept && (await options.intercept(req, res))) return;
      if (path === "/.well-known/openid-configuration") {
        return json(res, { issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, id_token_signing_alg_values_supported: [alg] });
      }
      if (path === "/.well-known/jwks.json") {
        return json(res, { keys: keys.map((k) => k.publicJwk) });
      }
      res.writeHead(404).end();
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    audience,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    keys,
    hits,
    sign: (claims = {}, signOptions = {}) =>
      signToken(signOptions.key ?? keys[0]!, { iss: issuer, aud: audience, ...claims }, signOptions),
    async rotate(rotateOptions = {}) {
      const key = await generateSigningKey(alg);
      if (rotateOptions.dropOld) keys.splice(0, keys.length);
      keys.unshift(key);
      return key;
    },
    env: () => ({ AUTH_ISSUER: issuer, AUTH_AUDIENCE: audience }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
}
