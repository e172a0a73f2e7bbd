import { useApolloClient } from "@apollo/client/react";
import { describePasskeyError } from "../errors";
import { registerPasskey } from "../passkey";
import { Alert, useAction } from "../ui";

/** Right after a passkey sign-up proved the email: this device makes the passkey, or not now. */
export function CreatePasskey({ onDone }: { onDone: () => void }) {
  const client = useApolloClient();
  const { run, busy, error } = useAction(async () => {
    await registerPasskey(client);
    onDone();
  });
  return (
    <section>
      <h1>Create a passkey</h1>
      <p className="lead">Your email is confirmed. Next time, sign in with your fingerprint, face or screen lock instead of a code.</p>
      <Alert message={describePasskeyError(error)} />
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => run()}>
          Create a passkey
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Not now
        </button>
      </div>
      <p className="muted">You can add one later on your account page.</p>
    </section>
  );
}
