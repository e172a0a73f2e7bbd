import { randomBytes, createHash } from "node:crypto";
import jwt from "jsonwebtoken";
import { LRUCache } from "lru-cache";
import type { Aal } from "../core/ports";
import type { KeyRing } from "./signing-keys";

/** What a verified access token says (contract README, "Access tokens"); frozen, shared by every request with the token. */
export interface AccessClaims {
  readonly sub: string;
  readonly sid: string;
  readonly aal: Aal;
  readonly amr: readonly string[];
  readonly iat: number;
  readonly exp: number;
}

/** What a verified mfaToken says: a user who passed a first factor, and which. */
export interface MfaClaims {
  sub: string;
  amr: string[];
  /** The authenticators the first factor proved (e.g. "email"): the second must differ. */
  factors: string[];
  /** Recorded once the second factor succeeds: each mfaToken finishes one sign-in. */
  jti: string;
  /** The user's credentialsVersion when the first factor was checked. */
  cv: number;
  exp: number;
}

// Distinct `typ` headers and audiences: neither token is ever accepted as the other,
// here or by a service that checks `aud` alone.
const ACCESS_TYP = "at+jwt"; // RFC 9068
const MFA_TYP = "mfa+jwt";
const MFA_TTL_SECONDS = 300;

/** Access tokens verified lately: a client sends the same one on every request until it expires. */
const VERIFIED_ACCESS_TOKENS = 10_000;

export class TokenService {
  private readonly mfaAudience: string;
  /**
   * The same bytes verify the same way, so a token checked once is not checked again
   * (ES256 verification is the largest cost of an authenticated request); its expiry and
   * its key are, on every use. Revocation is the caller's (the session markers).
   */
  private readonly verifiedAccess = new LRUCache<string, { claims: AccessClaims; kid: string }>({ max: VERIFIED_ACCESS_TOKENS });

  constructor(
    private readonly keys: KeyRing,
    private readonly opts: { issuer: string; audience: string; accessTtlSeconds: number },
  ) {
    this.mfaAudience = `${opts.issuer}/mfa`;
  }

  get accessTtlSeconds(): number {
    return this.opts.accessTtlSeconds;
  }

  signAccess(c: { userId: string; sessionId: string; aal: Aal; amr: string[] }): string {
    return jwt.sign({ sid: c.sessionId, aal: c.aal, amr: c.amr }, this.keys.signing.privateKey, {
      algorithm: "ES256",
      keyid: this.keys.signing.kid,
      header: { alg: "ES256", typ: ACCESS_TYP, kid: this.keys.signing.kid },
      issuer: this.opts.issuer,
      audience: this.opts.audience,
      subject: c.userId,
      expiresIn: this.opts.accessTtlSeconds,
    });
  }

  /** Null for anything but a valid, unexpired access token of this gateway. */
  verifyAccess(token: string): AccessClaims | null {
    const seen = this.verifiedAccess.get(token);
    if (seen) {
      // As jsonwebtoken decides it: expired from the second `exp` names; a key taken out of the ring ends its tokens.
      if (Math.floor(Date.now() / 1000) < seen.claims.exp && this.keys.byKid(seen.kid)) return seen.claims;
      this.verifiedAccess.delete(token);
      return null;
    }
    const verified = this.verify(token, ACCESS_TYP, this.opts.audience);
    if (!verified) return null;
    const { payload, kid } = verified;
    if (typeof payload.sid !== "string" || (payload.aal !== "aal1" && payload.aal !== "aal2") || !Array.isArray(payload.amr)) {
      return null;
    }
    // Frozen: every later request with this token gets the same object.
    Object.freeze(payload.amr);
    const claims: AccessClaims = Object.freeze(payload) as unknown as AccessClaims;
    this.verifiedAccess.set(token, { claims, kid });
    return claims;
  }

  get mfaTtlSeconds(): number {
    return MFA_TTL_SECONDS;
  }

  signMfa(c: { userId: string; amr: string[]; factors: string[]; credentialsVersion: number }): string {
    return jwt.sign({ amr: c.amr, factors: c.factors, cv: c.credentialsVersion }, this.keys.signing.privateKey, {
      algorithm: "ES256",
      header: { alg: "ES256", typ: MFA_TYP, kid: this.keys.signing.kid },
      issuer: this.opts.issuer,
      audience: this.mfaAudience,
      subject: c.userId,
      expiresIn: MFA_TTL_SECONDS,
      jwtid: randomBytes(16).toString("base64url"),
    });
  }

  verifyMfa(token: string): MfaClaims | null {
    const payload = this.verify(token, MFA_TYP, this.mfaAudience)?.payload;
    if (!payload || !Array.isArray(payload.amr) || typeof payload.jti !== "string") return null;
    // Tokens without `factors` (signed before it existed) are refused: the rule needs it.
    if (!Array.isArray(payload.factors) || !payload.factors.every((f: unknown) => typeof f === "string")) return null;
    if (!Number.isInteger(payload.cv)) return null;
    return payload as unknown as MfaClaims;
  }

  private verify(token: string, typ: string, audience: string): { payload: jwt.JwtPayload; kid: string } | null {
    try {
      const decoded = jwt.decode(token, { complete: true });
      if (!decoded || decoded.header.typ !== typ || !decoded.header.kid) return null;
      const kid = decoded.header.kid;
      const key = this.keys.byKid(kid);
      if (!key) return null;
      const payload = jwt.verify(token, key, { algorithms: ["ES256"], issuer: this.opts.issuer, audience });
      // jsonwebtoken accepts a token without exp: one that never expires is never ours.
      return typeof payload === "object" && typeof payload.sub === "string" && typeof payload.exp === "number" ? { payload, kid } : null;
    } catch {
      return null;
    }
  }
}

/** A 256-bit random secret, base64url: refresh tokens, one-time codes, OAuth state and nonces. */
export const randomSecret = (): string => randomBytes(32).toString("base64url");

/** 256-bit opaque refresh token. */
export const newRefreshToken = randomSecret;

/** A fast hash is enough for a 256-bit random secret: it cannot be guessed, only stolen. */
export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");
