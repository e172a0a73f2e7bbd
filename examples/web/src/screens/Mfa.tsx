import { useApolloClient, useMutation } from "@apollo/client/react";
import { useState } from "react";
import { describeError, describePasskeyError, type MessageOverrides } from "../errors";
import type { AuthFragment, ChallengeFragment, MfaMethod, OtpChannel, RequestOtpInput } from "../gql/graphql";
import { RequestOtpDocument, UseRecoveryCodeDocument, VerifyTotpDocument } from "../operations";
import { authenticateWithPasskey, passkeysSupported } from "../passkey";
import { Alert, BackToSignIn, codeInput, Field, formValues, Tabs, useAction } from "../ui";
import { CodeEntry } from "./CodeEntry";

const METHOD_NAMES: Record<MfaMethod, string> = {
  TOTP: "Authenticator app",
  RECOVERY_CODE: "Recovery code",
  EMAIL_OTP: "Email code",
  SMS_OTP: "Text message code",
  PASSKEY: "Passkey",
};

/** The mfaToken lives a few minutes; past that the gateway answers UNAUTHENTICATED. */
const OVERRIDES: MessageOverrides = { UNAUTHENTICATED: "This sign-in took too long. Please start over." };

type Props = { mfaToken: string; methods: MfaMethod[]; onAuth: (auth: AuthFragment) => void; onBack: () => void };

/** The second step of a sign-in: offers exactly the methods the account has. */
export function Mfa({ mfaToken, methods: offered, onAuth, onBack }: Props) {
  // A browser without WebAuthn cannot use the passkey the account has.
  const methods = offered.filter((m) => m !== "PASSKEY" || passkeysSupported());
  const [method, setMethod] = useState<MfaMethod | undefined>(methods[0]);
  return (
    <section>
      <h1>One more step</h1>
      <p className="lead">Your account has two-step verification. Confirm it's you with one of these.</p>
      {methods.length > 1 && method && <Tabs label="Second step" selected={method} onSelect={setMethod} tabs={methods.map((m) => [m, METHOD_NAMES[m]])} />}
      <div role="tabpanel" className="panel">
        {method === "TOTP" && <TotpForm mfaToken={mfaToken} onAuth={onAuth} />}
        {method === "RECOVERY_CODE" && <RecoveryCodeForm mfaToken={mfaToken} onAuth={onAuth} />}
        {method === "EMAIL_OTP" && <OtpStep key="email" channel="EMAIL" mfaToken={mfaToken} onAuth={onAuth} />}
        {method === "SMS_OTP" && <OtpStep key="sms" channel="SMS" mfaToken={mfaToken} onAuth={onAuth} />}
        {method === "PASSKEY" && <PasskeyStep mfaToken={mfaToken} onAuth={onAuth} />}
        {!method && <Alert message="This account has no second step this app can use." />}
      </div>
      <BackToSignIn onBack={onBack} />
    </section>
  );
}

type StepProps = { mfaToken: string; onAuth: (auth: AuthFragment) => void };

function TotpForm({ mfaToken, onAuth }: StepProps) {
  const [verifyTotp, { loading, error }] = useMutation(VerifyTotpDocument, { onCompleted: (data) => onAuth(data.verifyTotp) });
  return (
    <form noValidate onSubmit={(event) => void verifyTotp({ variables: { input: { mfaToken, code: formValues(event).code } } })}>
      <Field label="Code from your authenticator app" name="code" autoFocus {...codeInput(6)} />
      <Alert message={describeError(error, OVERRIDES)} />
      <button type="submit" disabled={loading}>
        Verify
      </button>
    </form>
  );
}

function RecoveryCodeForm({ mfaToken, onAuth }: StepProps) {
  const [redeem, { loading, error }] = useMutation(UseRecoveryCodeDocument, { onCompleted: (data) => onAuth(data.useRecoveryCode) });
  return (
    <form noValidate onSubmit={(event) => void redeem({ variables: { input: { mfaToken, code: formValues(event).code } } })}>
      <Field label="Recovery code" name="code" autoComplete="off" autoFocus required hint="One of the codes you saved when you set up your authenticator app." />
      <Alert message={describeError(error, { ...OVERRIDES, INVALID_CODE: "That recovery code isn't right, or was used already." })} />
      <button type="submit" disabled={loading}>
        Verify
      </button>
    </form>
  );
}

/** A code sent to the account's own email or phone (purpose MFA: no destination needed). */
function OtpStep({ channel, mfaToken, onAuth }: StepProps & { channel: OtpChannel }) {
  const request: RequestOtpInput = { channel, purpose: "MFA", mfaToken };
  const [sent, setSent] = useState<ChallengeFragment | null>(null);
  const [requestOtp, { loading, error }] = useMutation(RequestOtpDocument, { onCompleted: (data) => setSent(data.requestOtp) });
  if (sent) return <CodeEntry request={request} challenge={sent} onAuth={onAuth} overrides={OVERRIDES} />;
  return (
    <>
      <p className="lead">{channel === "EMAIL" ? "We'll email a code to the address on your account." : "We'll text a code to the phone number on your account."}</p>
      <Alert message={describeError(error, OVERRIDES)} />
      <button type="button" disabled={loading} onClick={() => void requestOtp({ variables: { input: request } })}>
        {channel === "EMAIL" ? "Send code by email" : "Send code by text message"}
      </button>
    </>
  );
}

/** The account's passkey as the second step: request options bound to this mfaToken, then the browser's prompt. */
function PasskeyStep({ mfaToken, onAuth }: StepProps) {
  const client = useApolloClient();
  const { run, busy, error } = useAction(async () => onAuth(await authenticateWithPasskey(client, mfaToken)));
  return (
    <>
      <p className="lead">Use a passkey saved for this account: on this device, or on your phone.</p>
      <Alert message={describePasskeyError(error, { UNAUTHENTICATED: "That passkey isn't one of this account's, or this sign-in took too long. Try again, or start over." })} />
      <button type="button" disabled={busy} onClick={() => run()}>
        Use a passkey
      </button>
    </>
  );
}
