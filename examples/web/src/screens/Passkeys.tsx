import { useApolloClient, useMutation } from "@apollo/client/react";
import { useState } from "react";
import { describeError, describePasskeyError, type MessageOverrides } from "../errors";
import type { PasskeyFragment } from "../gql/graphql";
import { RemovePasskeyDocument, RenamePasskeyDocument } from "../operations";
import { passkeysSupported, registerPasskey } from "../passkey";
import { timeAgo } from "../time";
import { Alert, Field, formValues, SubmitOrCancel, useAction } from "../ui";

type Props = {
  passkeys: PasskeyFragment[];
  /** TOTP on and this session not aal2: the gateway wants a step-up before account changes. */
  needsStepUp: boolean;
  onChanged: () => void;
};

/** Adding and removing passkeys are account changes: a recent sign-in (and aal2 with TOTP on), as for the password. */
function accountChangeOverrides(needsStepUp: boolean): MessageOverrides {
  return {
    FORBIDDEN: needsStepUp
      ? "First confirm it's you (Step-up verification, below)."
      : "For your safety, this needs a recent sign-in: sign out, sign in again, then try once more.",
  };
}

/** The account's passkeys: add one from this device, rename, remove. */
export function Passkeys({ passkeys, needsStepUp, onChanged }: Props) {
  const client = useApolloClient();
  const [renaming, setRenaming] = useState<string | null>(null);
  const adding = useAction(async () => {
    await registerPasskey(client);
    onChanged();
  });
  const [removePasskey, removing] = useMutation(RemovePasskeyDocument, { onCompleted: onChanged });
  const overrides = accountChangeOverrides(needsStepUp);
  return (
    <section className="card">
      <h2>Passkeys</h2>
      <p className="muted">Sign in with your fingerprint, face or screen lock: nothing to type, nothing a fake site can catch.</p>
      {passkeys.length > 0 && (
        <ul className="passkeys" data-testid="passkeys">
          {passkeys.map((passkey) => (
            <li key={passkey.id} data-testid="passkey">
              {renaming === passkey.id ? (
                <RenameForm passkey={passkey} onDone={() => setRenaming(null)} />
              ) : (
                <>
                  <div>
                    <strong data-testid="passkey-name">{passkey.name}</strong> {passkey.backedUp && <span className="badge ok">Synced</span>}
                    <div className="muted">
                      Added {timeAgo(passkey.createdAt)} · {passkey.lastUsedAt ? `last used ${timeAgo(passkey.lastUsedAt)}` : "not used yet"}
                    </div>
                  </div>
                  <div className="actions">
                    <button type="button" className="secondary" onClick={() => setRenaming(passkey.id)}>
                      Rename
                    </button>
                    <button type="button" className="secondary" disabled={removing.loading} onClick={() => void removePasskey({ variables: { id: passkey.id } })}>
                      Remove
                    </button>
                  </div>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      {/* The last way in is refused by the gateway (BAD_USER_INPUT, in its own words). */}
      <Alert message={describeError(removing.error, overrides)} />
      <Alert message={describePasskeyError(adding.error, overrides)} />
      {passkeysSupported() ? (
        <button type="button" disabled={adding.busy} onClick={() => adding.run()}>
          Add a passkey
        </button>
      ) : (
        <p className="muted">This browser can't make passkeys.</p>
      )}
    </section>
  );
}

function RenameForm({ passkey, onDone }: { passkey: PasskeyFragment; onDone: () => void }) {
  // The answer is the Passkey itself: Apollo's cache updates the list by its id.
  const [rename, { loading, error }] = useMutation(RenamePasskeyDocument, { onCompleted: onDone });
  return (
    <form noValidate className="inline" onSubmit={(event) => void rename({ variables: { input: { id: passkey.id, name: formValues(event).name } } })}>
      <Field label="Passkey name" name="name" defaultValue={passkey.name} maxLength={64} required autoFocus />
      <Alert message={describeError(error)} />
      <SubmitOrCancel label="Save name" busy={loading} onCancel={onDone} />
    </form>
  );
}
