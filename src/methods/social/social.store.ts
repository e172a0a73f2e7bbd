import type { KeyValueStore } from "../../core/ports";
import { takeOnce } from "../../core/take-once";
import { hashToken } from "../../sessions/tokens";
import type { ProviderProfile } from "./identity.repo";

/** A started browser sign-in or link, waiting for the provider's callback. */
export interface PendingAuthorization {
  purpose: "sign_in" | "link";
  provider: string;
  codeVerifier: string;
  nonce: string;
  redirectUrl: string;
  /** The client's own state (required), echoed on redirectUrl. */
  clientState: string;
  /** linkIdentity only: the account and the session that asked. */
  userId?: string;
  sessionId?: string;
}

/** What a one-time exchange code stands for: a sign-in the callback resolved to an account. */
export interface SocialGrant {
  userId: string;
  provider: string;
  /** The identity (provider, subject) it signs in with: unlinked since, the code signs nobody in. */
  subject: string;
  isNewUser: boolean;
  /** The account's credentialsVersion at the callback: a claim since then leaves the code nothing. */
  credentialsVersion: number;
  /** The provider's account has the account's email: an email code is then no second factor. */
  sameMailbox?: boolean;
}

/**
 * What a one-time link code stands for: the identity a linkIdentity callback resolved,
 * for completeLinkIdentity to attach. Bound to the account and the session that started
 * the link: only that session redeems it.
 */
export interface LinkGrant {
  userId: string;
  sessionId: string;
  profile: ProviderProfile;
}

// Keyed by the secret's SHA-256, so the store never holds a usable state or code.
const stateKey = (state: string) => `social:state:${hashToken(state)}`;
const codeKey = (code: string) => `social:code:${hashToken(code)}`;
const linkCodeKey = (code: string) => `social:link-code:${hashToken(code)}`;
const nonceKey = (provider: string, nonce: string) => `social:nonce:${provider}:${hashToken(nonce)}`;

/** Started sign-ins, exchange and link codes, and native apps' spent nonces: each single use, each with a TTL. */
export class SocialStore {
  constructor(private readonly store: KeyValueStore) {}

  putAuthorization(state: string, pending: PendingAuthorization, ttlMs: number): Promise<void> {
    return this.store.set(stateKey(state), JSON.stringify(pending), ttlMs);
  }

  takeAuthorization(state: string): Promise<PendingAuthorization | null> {
    return this.take<PendingAuthorization>(stateKey(state));
  }

  putGrant(code: string, grant: SocialGrant, ttlMs: number): Promise<void> {
    return this.store.set(codeKey(code), JSON.stringify(grant), ttlMs);
  }

  takeGrant(code: string): Promise<SocialGrant | null> {
    return this.take<SocialGrant>(codeKey(code));
  }

  putLinkGrant(code: string, grant: LinkGrant, ttlMs: number): Promise<void> {
    return this.store.set(linkCodeKey(code), JSON.stringify(grant), ttlMs);
  }

  /** Single use whoever asks: a code that reached the wrong session is spent all the same. */
  takeLinkGrant(code: string): Promise<LinkGrant | null> {
    return this.take<LinkGrant>(linkCodeKey(code));
  }

  /** True the first time a token's nonce claim is used with this provider, for `ttlMs` (the token's remaining life). */
  spendNonce(provider: string, nonce: string, ttlMs: number): Promise<boolean> {
    return this.store.setIfAbsent(nonceKey(provider, nonce), "1", Math.max(1000, ttlMs));
  }

  private async take<T>(key: string): Promise<T | null> {
    const raw = await this.store.run(takeOnce, [key], []);
    return raw === null ? null : (JSON.parse(raw) as T);
  }
}
