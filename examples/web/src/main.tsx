import { ApolloProvider } from "@apollo/client/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { client } from "./apollo";
import { App, type Screen } from "./App";
import { ErrorBoundary } from "./ErrorBoundary";
import { takeRedirectResult } from "./redirect";
import { LINK_NOT_ASKED_HERE_MESSAGE, SIGN_IN_FAILED_MESSAGE } from "./errors";
import { keepLinkOutcome, takeSocialCallback } from "./social";
import { endSession, noticeWhenSignedOut, restoreSession, signInWithRefreshToken } from "./session";
import "./styles.css";

// Before anything renders: a magic link's confirm page may have sent this device here with
// tokens (or an MFA step) in the URL fragment. Take them out of the URL at once; they count
// only with the state this browser stored when it asked (else anyone's link would sign in here).
const redirect = takeRedirectResult();
// Or a provider sent it back to the callback route (social sign-in, linking): the query
// comes off the URL at once too, and counts only with the state this tab stored.
const social = takeSocialCallback();
let initialScreen: Screen | undefined;
if (social) {
  if (social.kind === "code") initialScreen = { name: "socialCallback", code: social.code, providerName: social.providerName };
  else if (social.kind === "failed" && social.purpose === "signIn") initialScreen = { name: "signIn", method: "password", notice: social.message };
  // A link code (the account page redeems it), or a link that failed (the account page says so).
  else keepLinkOutcome(social);
  // Signed in already (a link, another tab): that session stays; signed out, the screen above goes on.
  void restoreSession();
} else if (redirect?.kind === "tokens") {
  // Swap the page-readable refresh token into the httpOnly cookie, then forget it.
  signInWithRefreshToken(redirect.refreshToken).catch(() => endSession(SIGN_IN_FAILED_MESSAGE));
} else if (redirect?.kind === "refused") {
  // Whoever is signed in stays so; nobody is signed in from that link.
  void restoreSession().then(() => noticeWhenSignedOut(LINK_NOT_ASKED_HERE_MESSAGE));
} else {
  if (redirect?.kind === "mfa") initialScreen = { name: "mfa", mfaToken: redirect.mfaToken, methods: redirect.mfaMethods };
  // A reload keeps you signed in: the refresh cookie gets a new access token.
  void restoreSession();
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ErrorBoundary>
      <ApolloProvider client={client}>
        <App initialScreen={initialScreen} />
      </ApolloProvider>
    </ErrorBoundary>
  </StrictMode>,
);
