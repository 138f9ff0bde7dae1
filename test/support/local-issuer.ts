/**
 * The local issuer moved into the package (`src/dev/local-issuer.ts`: the
 * `dev` and `token` commands of the bin use it); tests, benches and scripts
 * keep importing it from here, the one place test helpers come from.
 */
export {
  generateSigningKey, loadDevSigningKey, signToken, startLocalIssuer,
  type LocalIssuer, type LocalIssuerOptions, type SignOptions, type SigningKey,
} from "../../src/dev/local-issuer.ts";
