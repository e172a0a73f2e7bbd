import { useMutation, useQuery } from "@apollo/client/react";
import { useEffect, useRef, useState } from "react";
import { describeError } from "../errors";
import { CompleteLinkIdentityDocument, IdentitiesDocument, LinkIdentityDocument, UnlinkIdentityDocument } from "../operations";
import { clearLinkOutcome, linkCodeErrors, linkedMessage, peekLinkOutcome } from "../social";
import { leavingPage, ProviderButtons, startInput } from "./SocialButtons";
import { timeAgo } from "../time";
import { Alert } from "../ui";

/** The gateway wants a recent sign-in (and the second step with TOTP on) to link or unlink. */
const NEEDS_RECENT_SIGN_IN = "For this, sign in again first (and with an authenticator app on, confirm it's you with Step-up verification below).";

/**
 * The account page's "Linked accounts": identities at providers that sign in to this account,
 * "Link <provider>" for the configured providers not linked yet, and "Unlink" (the gateway
 * refuses the last way in, and says so). Nothing without any provider configured.
 */
export function Identities() {
  const { data, refetch } = useQuery(IdentitiesDocument, { fetchPolicy: "cache-and-network" });
  // Back from linking (main.tsx checked the state): the link code is traded here, once
  // (StrictMode runs effects twice in development), and a failure is said once.
  const [outcome] = useState(peekLinkOutcome);
  const [complete, completing] = useMutation(CompleteLinkIdentityDocument, { onCompleted: () => void refetch() });
  const sent = useRef(false);
  useEffect(() => {
    clearLinkOutcome();
    if (outcome?.kind !== "code" || sent.current) return;
    sent.current = true;
    void complete({ variables: { input: { code: outcome.code } } }).catch(() => undefined);
  }, [complete, outcome]);
  const [link, linking] = useMutation(LinkIdentityDocument, {
    onCompleted: (result) => location.assign(result.linkIdentity.authorizationUrl),
  });
  const [unlink, unlinking] = useMutation(UnlinkIdentityDocument, { onCompleted: () => void refetch() });

  const providers = data?.identityProviders ?? [];
  const identities = data?.me?.identities ?? [];
  if (providers.length === 0 && identities.length === 0) return null;
  const nameOf = (id: string) => providers.find((p) => p.id === id)?.name ?? id;
  const unlinked = providers.filter((p) => !identities.some((i) => i.provider === p.id));
  // The link code this page trades, when it came back from linking one.
  const traded = outcome?.kind === "code" ? outcome : null;
  const overrides = { FORBIDDEN: NEEDS_RECENT_SIGN_IN };

  return (
    <section className="card">
      <h2>Linked accounts</h2>
      {traded && completing.loading && <p className="muted">Linking {traded.providerName}…</p>}
      {traded && completing.data && (
        <p role="status" className="success" data-testid="link-outcome">
          {linkedMessage(traded.providerName)}
        </p>
      )}
      {traded && <Alert message={describeError(completing.error, linkCodeErrors(traded.providerName))} />}
      {outcome?.kind === "failed" && <Alert message={outcome.message} />}
      {identities.length === 0 ? (
        <p className="muted">No accounts at other providers sign in here yet.</p>
      ) : (
        <ul className="identities" data-testid="identities">
          {identities.map((identity) => (
            <li key={identity.id} data-testid="identity">
              <div>
                <strong>{nameOf(identity.provider)}</strong>
                {identity.email && <span> · {identity.email}</span>}
                <div className="muted">Linked {timeAgo(identity.createdAt)}</div>
              </div>
              <button type="button" className="secondary" disabled={unlinking.loading} onClick={() => void unlink({ variables: { id: identity.id } }).catch(() => undefined)}>
                Unlink
              </button>
            </li>
          ))}
        </ul>
      )}
      {/* BAD_USER_INPUT (the last way in) comes in the gateway's own words. */}
      <Alert message={describeError(unlinking.error ?? linking.error, overrides)} />
      {unlinked.length > 0 && (
        <div className="actions">
          <ProviderButtons
            providers={unlinked}
            label={(name) => `Link ${name}`}
            disabled={leavingPage(linking)}
            onPick={(provider) => void link({ variables: { input: startInput("link", provider) } }).catch(() => undefined)}
          />
        </div>
      )}
    </section>
  );
}
