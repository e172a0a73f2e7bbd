import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { useEffect } from "react";
import { describeError } from "../errors";
import { IdentityProvidersDocument, StartSocialSignInDocument } from "../operations";
import { beginSocial, socialRedirectUrl, type SocialPurpose } from "../social";
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
  return (
    <div className="social" data-testid="social-sign-in">
      <ProviderButtons
        providers={providers}
        label={(name) => `Continue with ${name}`}
        disabled={leavingPage({ loading, error, called })}
        onPick={(provider) => void start({ variables: { input: startInput("signIn", provider) } }).catch(() => undefined)}
      />
      <Alert message={describeError(error, { UNAVAILABLE: "That provider can't be reached right now. Please try again in a moment." })} />
      <p className="or">or</p>
    </div>
  );
}

interface Provider {
  id: string;
  name: string;
}

/** One button per provider; a click hands it to `onPick`, which sends the browser there. */
export function ProviderButtons({ providers, label, disabled, onPick }: { providers: readonly Provider[]; label: (name: string) => string; disabled: boolean; onPick: (provider: Provider) => void }) {
  return providers.map((provider) => (
    <button key={provider.id} type="button" className="secondary" disabled={disabled} onClick={() => onPick(provider)}>
      {label(provider.name)}
    </button>
  ));
}

/** The input of startSocialSignIn and linkIdentity: back to this app, with a fresh state stored in this tab. */
export const startInput = (purpose: SocialPurpose, provider: Provider) => ({ provider: provider.id, redirectUrl: socialRedirectUrl(), state: beginSocial(purpose, provider) });

/** A mutation whose answer leaves the page: busy from the click until the next page replaces this one. */
export const leavingPage = (m: { loading: boolean; called: boolean; error?: unknown }): boolean => m.loading || (m.called && !m.error);
