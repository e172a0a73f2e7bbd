import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { useEffect } from "react";
import { describeError } from "../errors";
import { IdentityProvidersDocument, StartSocialSignInDocument } from "../operations";
import { beginSocial, socialRedirectUrl } from "../social";
import { Alert } from "../ui";

/**
 * "Continue with …", one button per provider the gateway has configured (none: nothing at
 * all). A click stores a fresh state in this tab and sends the browser to the provider; it
 * comes back on the callback route (SocialCallback).
 */
export function SocialButtons() {
  const client = useApolloClient();
  const { data, refetch } = useQuery(IdentityProvidersDocument);
  // The app clears the store whenever it is signed out (as this screen mounts), which cancels
  // this query in flight: ask again once the store is clear.
  useEffect(() => client.onClearStore(() => refetch().then(() => undefined, () => undefined)), [client, refetch]);
  const [start, { loading, error, called }] = useMutation(StartSocialSignInDocument, {
    // Leaving the page: the button stays busy until the provider's page replaces this one.
    onCompleted: (result) => location.assign(result.startSocialSignIn.authorizationUrl),
  });
  const providers = data?.identityProviders ?? [];
  if (providers.length === 0) return null;
  const busy = loading || (called && !error);
  return (
    <div className="social" data-testid="social-sign-in">
      {providers.map((provider) => (
        <button
          key={provider.id}
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() => void start({ variables: { input: { provider: provider.id, redirectUrl: socialRedirectUrl(), state: beginSocial("signIn", provider) } } }).catch(() => undefined)}
        >
          Continue with {provider.name}
        </button>
      ))}
      <Alert message={describeError(error, { UNAVAILABLE: "That provider can't be reached right now. Please try again in a moment." })} />
      <p className="or">or</p>
    </div>
  );
}
