import { useApolloClient } from "@apollo/client/react";
import { useEffect, useState } from "react";
import { DevOutbox } from "./DevOutbox";
import { SIGN_IN_FAILED_MESSAGE } from "./errors";
import type { AuthFragment, ChallengeFragment, MfaMethod, RequestOtpInput } from "./gql/graphql";
import { NetworkBanner } from "./NetworkBanner";
import { Account } from "./screens/Account";
import { CodeEntry } from "./screens/CodeEntry";
import { CreatePasskey } from "./screens/CreatePasskey";
import { MagicLinkWait } from "./screens/MagicLinkWait";
import { Mfa } from "./screens/Mfa";
import { SignIn, type MagicLinkRequest, type SignInMethod } from "./screens/SignIn";
import { SignUp } from "./screens/SignUp";
import { SocialCallback } from "./screens/SocialCallback";
import { signIn, useSession } from "./session";
import { BackToSignIn } from "./ui";

/** The screens before you are signed in: a small state machine, no router needed. */
export type Screen =
  | { name: "signIn"; method: SignInMethod; notice?: string }
  | { name: "signUp" }
  /** `thenPasskey`: the passkey sign-up, which offers to create the passkey once the code proved the email. */
  | { name: "code"; request: RequestOtpInput; challenge: ChallengeFragment; thenPasskey?: boolean }
  | { name: "mfa"; mfaToken: string; methods: MfaMethod[] }
  | { name: "magicLink"; email: string; request: MagicLinkRequest }
  /** Back from a provider with the gateway's one-time code (see social.ts). */
  | { name: "socialCallback"; code: string; providerName: string };

const START: Screen = { name: "signIn", method: "password" };

export function App({ initialScreen = START }: { initialScreen?: Screen }) {
  const session = useSession();
  const client = useApolloClient();
  const [screen, setScreen] = useState<Screen>(initialScreen);
  // Signed in by the passkey sign-up: the "Create a passkey" step comes before the account page.
  const [offerPasskey, setOfferPasskey] = useState(false);

  // Nothing of the last user stays in the cache once signed out.
  useEffect(() => {
    if (session.status === "signedOut") {
      void client.clearStore();
      setOfferPasskey(false);
    }
  }, [client, session.status]);

  // Why the session ended is said once, on the sign-in screen; the next move clears it.
  // (Keyed on the session state itself: the same words twice are two endings.)
  useEffect(() => {
    if (session.status === "signedOut" && session.notice) setScreen({ name: "signIn", method: "password", notice: session.notice });
  }, [session]);

  /** Every sign-in ends here: signed in, or on to the second step. */
  const onAuth = async (auth: AuthFragment) => {
    if (auth.status === "MFA_REQUIRED" && auth.mfaToken) {
      setScreen({ name: "mfa", mfaToken: auth.mfaToken, methods: auth.mfaMethods });
      return;
    }
    try {
      if (auth.tokens) await signIn(auth.tokens);
      setScreen(START);
    } catch {
      setOfferPasskey(false);
      setScreen({ name: "signIn", method: "password", notice: SIGN_IN_FAILED_MESSAGE });
    }
  };
  const back = () => setScreen(START);

  let content;
  if (session.status === "starting") {
    content = <p className="muted">Loading…</p>;
  } else if (session.status === "signedIn") {
    content = offerPasskey ? <CreatePasskey onDone={() => setOfferPasskey(false)} /> : <Account />;
  } else {
    switch (screen.name) {
      case "signIn":
        content = (
          <SignIn
            method={screen.method}
            notice={screen.notice}
            onMethod={(method) => setScreen({ name: "signIn", method })}
            onAuth={onAuth}
            onChallenge={(request, challenge) => setScreen({ name: "code", request, challenge })}
            onMagicLink={(email, request) => setScreen({ name: "magicLink", email, request })}
            onCreateAccount={() => setScreen({ name: "signUp" })}
          />
        );
        break;
      case "signUp":
        content = <SignUp onAuth={onAuth} onPasskeyChallenge={(request, challenge) => setScreen({ name: "code", request, challenge, thenPasskey: true })} onBack={back} />;
        break;
      case "code":
        content = (
          <section>
            <h1>Enter your code</h1>
            <CodeEntry
              request={screen.request}
              challenge={screen.challenge}
              onAuth={(auth) => {
                // Only once signed in for good (an MFA step still comes first for an account with TOTP).
                if (screen.thenPasskey && auth.status === "AUTHENTICATED") setOfferPasskey(true);
                void onAuth(auth);
              }}
            />
            <BackToSignIn onBack={back} />
          </section>
        );
        break;
      case "mfa":
        content = <Mfa mfaToken={screen.mfaToken} methods={screen.methods} onAuth={onAuth} onBack={back} />;
        break;
      case "magicLink":
        content = <MagicLinkWait email={screen.email} request={screen.request} onAuth={onAuth} onBack={back} />;
        break;
      case "socialCallback":
        content = <SocialCallback code={screen.code} providerName={screen.providerName} onAuth={onAuth} onBack={back} />;
        break;
    }
  }

  return (
    <>
      <NetworkBanner />
      <header className="brand">GraphQL Auth Gateway · example app</header>
      <main className="page">{content}</main>
      <DevOutbox />
    </>
  );
}
