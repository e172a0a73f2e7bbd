import { useApolloClient, useMutation } from "@apollo/client/react";
import { useEffect, useRef, useState } from "react";
import { describeError, describePasskeyError, type MessageOverrides } from "../errors";
import type { AuthFragment, ChallengeFragment, OtpChannel, RequestMagicLinkMutation, RequestOtpInput } from "../gql/graphql";
import { LoginDocument, RequestMagicLinkDocument, RequestOtpDocument } from "../operations";
import { authenticateWithPasskey, getCredential, passkeyAutofillAvailable, passkeyRequestOptions, passkeysSupported, verifyPasskey } from "../passkey";
import { newLinkState } from "../redirect";
import { Alert, Field, formValues, Tabs, useAction } from "../ui";
import { SocialButtons } from "./SocialButtons";

export type SignInMethod = "password" | "email" | "sms" | "magic";
export type MagicLinkRequest = RequestMagicLinkMutation["requestMagicLink"];

type Props = {
  method: SignInMethod;
  notice?: string;
  onMethod: (method: SignInMethod) => void;
  onAuth: (auth: AuthFragment) => void;
  onChallenge: (request: RequestOtpInput, challenge: ChallengeFragment) => void;
  onMagicLink: (email: string, request: MagicLinkRequest) => void;
  onCreateAccount: () => void;
};

/** The sign-in screen: one tab per way in, and the way to create an account. */
export function SignIn({ method, notice, onMethod, onAuth, onChallenge, onMagicLink, onCreateAccount }: Props) {
  const autofill = usePasskeyAutofill(onAuth);
  return (
    <section>
      <h1>Sign in</h1>
      <Alert message={notice} />
      <SocialButtons />
      <Tabs
        label="Ways to sign in"
        selected={method}
        onSelect={onMethod}
        tabs={[
          ["password", "Password"],
          ["email", "Email code"],
          ["sms", "Text message code"],
          ["magic", "Magic link"],
        ]}
      />
      <div role="tabpanel" className="panel">
        {method === "password" && <PasswordForm onAuth={onAuth} onForgot={() => onMethod("email")} passkeyAutofill={autofill.state} />}
        {method === "email" && <CodeRequestForm key="email" channel="EMAIL" onChallenge={onChallenge} />}
        {method === "sms" && <CodeRequestForm key="sms" channel="SMS" onChallenge={onChallenge} />}
        {method === "magic" && <MagicLinkForm onMagicLink={onMagicLink} />}
      </div>
      {passkeysSupported() && <PasskeySignIn onAuth={onAuth} onStart={autofill.stop} autofillError={autofill.error} />}
      <p className="aside">
        New here?{" "}
        <button type="button" className="link" onClick={onCreateAccount}>
          Create account
        </button>
      </p>
    </section>
  );
}

function PasswordForm({ onAuth, onForgot, passkeyAutofill }: { onAuth: (auth: AuthFragment) => void; onForgot: () => void; passkeyAutofill: AutofillState }) {
  const [login, { loading, error }] = useMutation(LoginDocument, { onCompleted: (data) => onAuth(data.login) });
  return (
    <form
      noValidate
      onSubmit={(event) => {
        const { email, password } = formValues(event);
        void login({ variables: { input: { email, password } } });
      }}
    >
      {/* "webauthn": the browser lists passkeys in this field's suggestions (see usePasskeyAutofill). */}
      <Field label="Email" name="email" type="email" autoComplete="username webauthn" required data-passkey-autofill={passkeyAutofill} />
      <Field label="Password" name="password" type="password" autoComplete="current-password" required />
      <Alert message={describeError(error, { UNAUTHENTICATED: "Wrong email or password." })} />
      <button type="submit" disabled={loading}>
        Sign in
      </button>
      {/* No reset link to mail: a code proves the address, then the account page sets a new password. */}
      <p className="aside">
        Forgot it?{" "}
        <button type="button" className="link" onClick={onForgot}>
          Sign in with an email code
        </button>
        , then set a new password on your account page.
      </p>
    </form>
  );
}

function CodeRequestForm({ channel, onChallenge }: { channel: OtpChannel; onChallenge: Props["onChallenge"] }) {
  const [requestOtp, { loading, error }] = useMutation(RequestOtpDocument);
  const email = channel === "EMAIL";
  return (
    <form
      noValidate
      onSubmit={(event) => {
        const input: RequestOtpInput = { channel, destination: formValues(event).destination, purpose: "SIGN_IN" };
        void requestOtp({ variables: { input }, onCompleted: (data) => onChallenge(input, data.requestOtp) });
      }}
    >
      <p className="lead">{email ? "We'll email you a code. No password needed." : "We'll text you a code. No password needed."}</p>
      {email ? (
        <Field label="Email" name="destination" type="email" autoComplete="email" required />
      ) : (
        <Field label="Phone number" name="destination" type="tel" autoComplete="tel" required hint="With the country code, e.g. +44 7911 123456" />
      )}
      <Alert message={describeError(error)} />
      <button type="submit" disabled={loading}>
        Send code
      </button>
    </form>
  );
}

function MagicLinkForm({ onMagicLink }: { onMagicLink: Props["onMagicLink"] }) {
  const [requestMagicLink, { loading, error }] = useMutation(RequestMagicLinkDocument);
  return (
    <form
      noValidate
      onSubmit={(event) => {
        const { email } = formValues(event);
        // The confirm page sends the device that opens the link back here, signed in.
        void requestMagicLink({
          // The redirect signs this browser in only if it brings this state back.
          variables: { input: { email, redirectUrl: `${location.origin}/`, state: newLinkState() } },
          onCompleted: (data) => onMagicLink(email, data.requestMagicLink),
        });
      }}
    >
      <p className="lead">We'll email you a link. Open it on this device or any other.</p>
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <Alert message={describeError(error)} />
      <button type="submit" disabled={loading}>
        Email me a link
      </button>
    </form>
  );
}

/** The gateway says UNAUTHENTICATED for a passkey it does not know and for a challenge spent or expired. */
const PASSKEY_SIGN_IN: MessageOverrides = { UNAUTHENTICATED: "That passkey isn't registered here, or the request took too long. Try again, or sign in another way." };

/** Username-less: the browser offers the passkeys it has for this site, the gateway finds the account from the one picked. */
function PasskeySignIn({ onAuth, onStart, autofillError }: { onAuth: Props["onAuth"]; onStart: () => void; autofillError: unknown }) {
  const client = useApolloClient();
  const { run, busy, error } = useAction(async () => {
    // One WebAuthn request at a time: the autofill one gives way to the button's.
    onStart();
    onAuth(await authenticateWithPasskey(client));
  });
  return (
    <div className="passkey-sign-in">
      <p className="or">or</p>
      <button type="button" className="secondary" disabled={busy} onClick={() => run()}>
        Sign in with a passkey
      </button>
      <Alert message={describePasskeyError(error ?? autofillError, PASSKEY_SIGN_IN)} />
    </div>
  );
}

type AutofillState = "idle" | "on" | "ended";

/**
 * Passkey autofill (conditional mediation): while the sign-in screen shows, a
 * navigator.credentials.get({ mediation: "conditional" }) waits for the person to pick a
 * passkey from the email field's suggestions; leaving the screen aborts it. Only when the
 * browser says it can; until someone picks a passkey nothing is shown, and failures before
 * that (no passkeys here, the request stopped) stay silent. Its state is on the email field
 * (data-passkey-autofill) for tests: a request that ended without a passkey says "ended".
 */
function usePasskeyAutofill(onAuth: Props["onAuth"]) {
  const client = useApolloClient();
  const [state, setState] = useState<AutofillState>("idle");
  const [error, setError] = useState<unknown>(null);
  const aborter = useRef<AbortController | null>(null);
  const latestOnAuth = useRef(onAuth);
  useEffect(() => {
    latestOnAuth.current = onAuth;
  });

  useEffect(() => {
    const controller = new AbortController();
    aborter.current = controller;
    const { signal } = controller;
    void (async () => {
      if (!(await passkeyAutofillAvailable()) || signal.aborted) return;
      setState("on");
      const picked = await (async () => {
        const options = await passkeyRequestOptions(client);
        if (signal.aborted) return null;
        return { challengeId: options.challengeId, responseJson: await getCredential(options.optionsJson, { mediation: "conditional", signal }) };
      })().catch(() => null);
      if (signal.aborted) return;
      setState("ended");
      if (!picked) return;
      try {
        const auth = await verifyPasskey(client, picked.challengeId, picked.responseJson);
        if (!signal.aborted) latestOnAuth.current(auth);
      } catch (verifyError) {
        if (!signal.aborted) setError(verifyError);
      }
    })();
    return () => controller.abort();
  }, [client]);

  const stop = () => {
    aborter.current?.abort();
    setState("ended");
    setError(null);
  };
  return { state, error, stop };
}
