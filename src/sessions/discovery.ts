/**
 * OpenID Connect Discovery 1.0 metadata, so that libraries configured with an issuer URL
 * alone (express-oauth2-jwt-bearer, openid-client, Spring's issuer-uri, ...) find the keys
 * and the issuer to check. The gateway signs people in over GraphQL, not with OAuth
 * redirects: there is no authorization or token endpoint to advertise, only what a
 * verifier of its access tokens needs.
 */
export function discoveryDocument(issuer: string, audience: string) {
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    // Required members of the OIDC metadata, true of the access tokens issued here.
    response_types_supported: ["token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["ES256"],
    // RFC 9068 access tokens: what a resource server checks.
    access_token_signing_alg_values_supported: ["ES256"],
    claims_supported: ["iss", "sub", "aud", "exp", "iat", "sid", "aal", "amr"],
    acr_values_supported: ["aal1", "aal2"],
    audience,
  };
}
