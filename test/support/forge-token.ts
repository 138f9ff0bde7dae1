/**
 * Build tokens byte by byte, the way an attacker does: any header, any
 * payload bytes, any signature. Tests use these to reach the verifier with
 * exactly the malformation a case is about.
 */
import { createHmac, createPublicKey } from "node:crypto";
import { exportJWK, importJWK, type JWK } from "jose";
import type { SigningKey } from "./local-issuer.ts";

/** base64url without padding of a string (UTF-8), bytes or JSON value. */
export function b64u(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64url");
  if (typeof value === "string") return Buffer.from(value, "utf8").toString("base64url");
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

const SUBTLE_ALG: Record<string, RsaPssParams | EcdsaParams | AlgorithmIdentifier> = {
  RS256: { name: "RSASSA-PKCS1-v1_5" },
  RS512: { name: "RSASSA-PKCS1-v1_5" },
  PS256: { name: "RSA-PSS", saltLength: 32 } as RsaPssParams,
  ES256: { name: "ECDSA", hash: "SHA-256" } as EcdsaParams,
  EdDSA: { name: "Ed25519" },
};

/**
 * Sign `header.payload` (already base64url-encoded segments) with a key
 * re-imported for `alg`, so a token can claim an algorithm the key was not
 * published for (PS256 or RS512 with an RS256 key).
 */
export async function signSegments(key: SigningKey, alg: string, header: string, payload: string): Promise<string> {
  const privateJwk = (await exportJWK(key.privateKey)) as JWK;
  const cryptoKey = (await importJWK({ ...privateJwk, alg }, alg)) as CryptoKey;
  const signature = await crypto.subtle.sign(SUBTLE_ALG[alg]!, cryptoKey, new TextEncoder().encode(`${header}.${payload}`));
  return `${header}.${payload}.${b64u(new Uint8Array(signature))}`;
}

/** Sign a raw header object and raw payload (object, string or bytes) with the key's own algorithm. */
export async function forge(key: SigningKey, header: Record<string, unknown> | string, payload: unknown, alg = key.alg): Promise<string> {
  const h = typeof header === "string" ? b64u(header) : b64u(header);
  return signSegments(key, alg, h, b64u(payload));
}

/** HMAC-sign a token with an RSA public key as the secret (the classic key-confusion attack). */
export function hmacWithPublicKey(key: SigningKey, alg: "HS256" | "HS512", payload: unknown, secret: "pem" | "jwk" = "pem"): string {
  const pem = createPublicKey({ key: key.publicJwk as Record<string, unknown> as never, format: "jwk" })
    .export({ type: "spki", format: "pem" })
    .toString();
  const material = secret === "pem" ? pem : JSON.stringify(key.publicJwk);
  const header = b64u({ alg, typ: "JWT", kid: key.kid });
  const body = b64u(payload);
  const mac = createHmac(alg === "HS256" ? "sha256" : "sha512", material).update(`${header}.${body}`).digest("base64url");
  return `${header}.${body}.${mac}`;
}
