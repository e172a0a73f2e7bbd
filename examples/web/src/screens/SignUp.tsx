import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { describeError } from "../errors";
import type { AuthFragment, ChallengeFragment, RequestOtpInput } from "../gql/graphql";
import { RequestOtpDocument, SignUpDocument } from "../operations";
import { passkeysSupported } from "../passkey";
import { Alert, BackToSignIn, Field, formValues, Tabs } from "../ui";

type Props = {
  onAuth: (auth: AuthFragment) => void;
  /** The passkey way: the email code was sent; once it is entered, the app offers to create the passkey. */
  onPasskeyChallenge: (request: RequestOtpInput, challenge: ChallengeFragment) => void;
  onBack: () => void;
};

/**
 * Email + password, or email + passkey. No phone here: the gateway does not keep a number
 * nobody proved, so a phone is added from the account page, with a code sent to it.
 */
export function SignUp({ onAuth, onPasskeyChallenge, onBack }: Props) {
  const [way, setWay] = useState<"password" | "passkey">("password");
  return (
    <section>
      <h1>Create account</h1>
      {passkeysSupported() && (
        <Tabs
          label="Ways to create an account"
          selected={way}
          onSelect={setWay}
          tabs={[
            ["password", "Password"],
            ["passkey", "Passkey"],
          ]}
        />
      )}
      <div role="tabpanel" className="panel">
        {way === "password" ? <PasswordSignUp onAuth={onAuth} /> : <PasskeySignUp onChallenge={onPasskeyChallenge} />}
      </div>
      <BackToSignIn onBack={onBack} />
    </section>
  );
}

function PasswordSignUp({ onAuth }: { onAuth: Props["onAuth"] }) {
  const [signUp, { loading, error }] = useMutation(SignUpDocument, { onCompleted: (data) => onAuth(data.signUp) });
  return (
    <form
      noValidate
      onSubmit={(event) => {
        const { email, password } = formValues(event);
        void signUp({ variables: { input: { email, password } } });
      }}
    >
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <Field label="Password" name="password" type="password" autoComplete="new-password" required hint="Long and hard to guess: a few unrelated words work well." />
      <Alert message={describeError(error)} />
      <button type="submit" disabled={loading}>
        Create account
      </button>
    </form>
  );
}

/**
 * The email is proven first, with a code (the passwordless sign-up the gateway already
 * has), so a lost device never locks anyone out: the address gets them back in.
 */
function PasskeySignUp({ onChallenge }: { onChallenge: Props["onPasskeyChallenge"] }) {
  const [requestOtp, { loading, error }] = useMutation(RequestOtpDocument);
  return (
    <form
      noValidate
      onSubmit={(event) => {
        const input: RequestOtpInput = { channel: "EMAIL", destination: formValues(event).email, purpose: "SIGN_IN" };
        void requestOtp({ variables: { input }, onCompleted: (data) => onChallenge(input, data.requestOtp) });
      }}
    >
      <p className="lead">No password: we email you a code to prove the address (it gets you back in if you lose your device), then this device makes a passkey.</p>
      <Field label="Email" name="email" type="email" autoComplete="email" required />
      <Alert message={describeError(error)} />
      <button type="submit" disabled={loading}>
        Send code
      </button>
    </form>
  );
}
