import { useApolloClient, useMutation } from "@apollo/client/react";
import { useState } from "react";
import { describeError, describePasskeyError, gatewayMessage, type MessageOverrides } from "../errors";
import type { PasskeyFragment } from "../gql/graphql";
import { RemovePasskeyDocument, RenamePasskeyDocument } from "../operations";
import { passkeysSupported, registerPasskey } from "../passkey";
import { timeAgo } from "../time";
import { Alert, Field, formValues, SubmitOrCancel, useAction } from "../ui";

type Props = {
  passkeys: PasskeyFragment[];
  onChanged: () => void;
};

/**
 * Adding and removing passkeys are account changes: a recent sign-in (aal2 with TOTP on),
 * and to add one a proven email or phone. The gateway's FORBIDDEN says which is missing.
 */
function accountChangeOverrides(error: unknown): MessageOverrides {
  const said = gatewayMessage(error);
  return said ? { FORBIDDEN: said } : {};
}

/** The account's passkeys: add one from this device, rename, remove. */
export function Passkeys({ passkeys, onChanged }: Props) {
  const client = useApolloClient();
  const [renaming, setRenaming] = useState<string | null>(null);
  const adding = useAction(async () => {
    await registerPasskey(client);
    onChanged();
  });
  const [removePasskey, removing] = useMutation(RemovePasskeyDocument, { onCompleted: onChanged });
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
      <Alert message={describeError(removing.error, accountChangeOverrides(removing.error))} />
      <Alert message={describePasskeyError(adding.error, accountChangeOverrides(adding.error))} />
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
