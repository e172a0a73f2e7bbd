import { useMutation } from "@apollo/client/react";
import { useEffect, useRef } from "react";
import { describeError } from "../errors";
import type { AuthFragment } from "../gql/graphql";
import { CompleteSocialSignInDocument } from "../operations";
import { Alert, BackToSignIn } from "../ui";

type Props = { code: string; providerName: string; onAuth: (auth: AuthFragment) => void; onBack: () => void };

/**
 * Back from the provider with the gateway's one-time code (main.tsx took it off the URL and
 * checked the state): trades it for a sign-in, which goes on like any other (the MFA step
 * when the account has TOTP).
 */
export function SocialCallback({ code, providerName, onAuth, onBack }: Props) {
  const [complete, { error }] = useMutation(CompleteSocialSignInDocument, { onCompleted: (data) => onAuth(data.completeSocialSignIn) });
  // Once: the code is single use, and StrictMode runs effects twice in development.
  const sent = useRef(false);
  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    void complete({ variables: { input: { code } } }).catch(() => undefined);
  }, [complete, code]);
  // Single use and a minute long: a reload, the back button, or a slow trip.
  const spent = `This sign-in with ${providerName} expired or was used already. Please start again.`;
  return (
    <section>
      <h1>Signing in with {providerName}</h1>
      {!error && <p className="muted">One moment…</p>}
      <Alert
        message={describeError(error, { UNAUTHENTICATED: spent, INVALID_CODE: spent })}
      />
      {error && <BackToSignIn onBack={onBack} />}
    </section>
  );
}
