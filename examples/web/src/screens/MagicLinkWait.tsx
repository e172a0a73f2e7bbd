import { useMutation, useSubscription } from "@apollo/client/react";
import { useState } from "react";
import { describeError } from "../errors";
import type { AuthFragment, MagicLinkState } from "../gql/graphql";
import { MagicLinkStatusDocument, RequestMagicLinkDocument } from "../operations";
import { forgetLinkState, newLinkState } from "../redirect";
import { clock, secondsUntil } from "../time";
import { Alert, BackToSignIn, useNow } from "../ui";
import type { MagicLinkRequest } from "./SignIn";

type Props = { email: string; request: MagicLinkRequest; onAuth: (auth: AuthFragment) => void; onBack: () => void };

/**
 * Waits for the link to be used, live over the WebSocket (no polling). When the person
 * confirms with the match code on the other device, this device is signed in too.
 */
export function MagicLinkWait({ email, request: first, onAuth, onBack }: Props) {
  const [request, setRequest] = useState(first);
  const [state, setState] = useState<MagicLinkState>("PENDING");
  const { error } = useSubscription(MagicLinkStatusDocument, {
    variables: { requestId: request.requestId, listenToken: request.listenToken },
    onData: ({ data }) => {
      const event = data.data?.magicLinkStatus;
      if (!event) return;
      setState(event.state);
      if (event.state === "CONFIRMED" || event.state === "DENIED" || event.state === "EXPIRED") forgetLinkState();
      // Carries tokens (or an mfaToken) once, to this listener only.
      if (event.state === "CONFIRMED" && event.auth) onAuth(event.auth);
    },
  });
  const [requestMagicLink, again] = useMutation(RequestMagicLinkDocument, {
    onCompleted: (data) => {
      setRequest(data.requestMagicLink);
      setState("PENDING");
    },
  });

  const secondsLeft = secondsUntil(request.expiresAt, useNow());
  const waiting = state === "PENDING" || state === "OPENED";
  const shown: MagicLinkState = waiting && secondsLeft === 0 ? "EXPIRED" : state;

  return (
    <section>
      <h1>Check your email</h1>
      <p className="lead">
        We sent a sign-in link to <strong>{email}</strong>. Open it on this device or another one.
      </p>
      {waiting && shown !== "EXPIRED" && (
        <>
          <p>If the page asks for a number, enter this one:</p>
          <p className="match-code" data-testid="match-code">
            {request.matchCode}
          </p>
          <p className="muted" data-testid="magic-link-expiry">
            The link expires in {clock(secondsLeft)}.
          </p>
        </>
      )}
      <StatusMessage state={shown} />
      <Alert message={describeError(error ?? again.error)} />
      {(shown === "DENIED" || shown === "EXPIRED") && (
        <button type="button" disabled={again.loading} onClick={() => void requestMagicLink({ variables: { input: { email, redirectUrl: `${location.origin}/`, state: newLinkState() } } })}>
          Send a new link
        </button>
      )}
      <BackToSignIn onBack={onBack} />
    </section>
  );
}

function StatusMessage({ state }: { state: MagicLinkState }) {
  switch (state) {
    case "PENDING":
      return <p role="status">Waiting for the link to be opened…</p>;
    case "OPENED":
      return <p role="status">The link was opened. Enter the number on the other device.</p>;
    case "CONFIRMED":
      return <p role="status">Confirmed. Signing you in…</p>;
    case "CONSUMED":
      return <p role="status">Signed in on the other device only.</p>;
    case "DENIED":
      return <Alert message="The link was refused on the other device." />;
    case "EXPIRED":
      return <Alert message="The link expired." />;
  }
}
