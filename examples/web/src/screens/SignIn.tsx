import { useMutation } from "@apollo/client/react";
import { describeError } from "../errors";
import type { AuthFragment, ChallengeFragment, OtpChannel, RequestMagicLinkMutation, RequestOtpInput } from "../gql/graphql";
import { LoginDocument, RequestMagicLinkDocument, RequestOtpDocument } from "../operations";
import { newLinkState } from "../redirect";
import { Alert, Field, formValues, Tabs } from "../ui";

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
  return (
    <section>
      <h1>Sign in</h1>
      <Alert message={notice} />
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
        {method === "password" && <PasswordForm onAuth={onAuth} onForgot={() => onMethod("email")} />}
        {method === "email" && <CodeRequestForm key="email" channel="EMAIL" onChallenge={onChallenge} />}
        {method === "sms" && <CodeRequestForm key="sms" channel="SMS" onChallenge={onChallenge} />}
        {method === "magic" && <MagicLinkForm onMagicLink={onMagicLink} />}
      </div>
      <p className="aside">
        New here?{" "}
        <button type="button" className="link" onClick={onCreateAccount}>
          Create account
        </button>
      </p>
    </section>
  );
}

function PasswordForm({ onAuth, onForgot }: { onAuth: (auth: AuthFragment) => void; onForgot: () => void }) {
  const [login, { loading, error }] = useMutation(LoginDocument, { onCompleted: (data) => onAuth(data.login) });
  return (
    <form
      noValidate
      onSubmit={(event) => {
        const { email, password } = formValues(event);
        void login({ variables: { input: { email, password } } });
      }}
    >
      <Field label="Email" name="email" type="email" autoComplete="username" required />
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
