import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { describeError } from "../errors";
import type { AccountQuery, EnrollTotpMutation } from "../gql/graphql";
import { ConfirmTotpDocument, DisableTotpDocument, EnrollTotpDocument, RegenerateRecoveryCodesDocument } from "../operations";
import { Alert, codeInput, Field, formValues, SubmitOrCancel } from "../ui";
import type { Task } from "./Account";

type Props = {
  user: NonNullable<AccountQuery["me"]>;
  task: Task;
  setTask: (task: Task) => void;
  onChanged: () => void;
};

/** Two-step verification with an authenticator app (TOTP), and its recovery codes. */
export function TwoStep({ user, task, setTask, onChanged }: Props) {
  // Recovery codes are shown once, right after they are made, until "Done".
  const [codes, setCodes] = useState<string[] | null>(null);
  const [enroll, enrolling] = useMutation(EnrollTotpDocument);
  const finish = () => {
    setCodes(null);
    setTask(null);
    onChanged();
  };

  return (
    <section className="card">
      <h2>Two-step verification</h2>
      {codes ? (
        <RecoveryCodes codes={codes} onDone={finish} />
      ) : user.totpEnabled ? (
        <>
          <p>
            Authenticator app: <span className="badge ok">On</span>
          </p>
          {task === "disable" && <DisableForm onCancel={() => setTask(null)} onDone={finish} />}
          {task === "regenerate" && <RegenerateForm onCancel={() => setTask(null)} onCodes={setCodes} />}
          {task !== "disable" && task !== "regenerate" && (
            <div className="actions">
              <button type="button" className="secondary" onClick={() => setTask("disable")}>
                Turn off
              </button>
              <button type="button" className="secondary" onClick={() => setTask("regenerate")}>
                New recovery codes
              </button>
            </div>
          )}
        </>
      ) : task === "enroll" && enrolling.data ? (
        <Enroll enrollment={enrolling.data.enrollTotp} onCancel={() => setTask(null)} onCodes={setCodes} />
      ) : (
        <>
          <p className="muted">Add an authenticator app (Google Authenticator, 1Password, …): signing in will then need a code from it too.</p>
          <Alert message={describeError(enrolling.error, { FORBIDDEN: "For your safety, setting up an authenticator app needs a recent sign-in: sign out, sign in again, then try once more." })} />
          <button
            type="button"
            disabled={enrolling.loading}
            onClick={() => {
              setTask("enroll");
              void enroll();
            }}
          >
            Set up authenticator app
          </button>
        </>
      )}
    </section>
  );
}

type FormProps = { onCancel: () => void };

/** Shows the QR code and the key, then turns TOTP on with a first code from the app. */
function Enroll({ enrollment, onCancel, onCodes }: FormProps & { enrollment: EnrollTotpMutation["enrollTotp"]; onCodes: (codes: string[]) => void }) {
  const [confirm, { loading, error }] = useMutation(ConfirmTotpDocument, { onCompleted: (data) => onCodes(data.confirmTotp.codes) });
  return (
    <>
      <ol className="steps">
        <li>
          Scan this QR code with your authenticator app:
          <img className="qr" src={enrollment.qrCodeDataUrl} alt="QR code for your authenticator app" width={180} height={180} />
        </li>
        <li>
          Can't scan it? Enter this key instead: <code className="secret" data-testid="totp-secret">{enrollment.secret}</code>
        </li>
        <li>Type the 6-digit code the app shows.</li>
      </ol>
      <form noValidate onSubmit={(event) => void confirm({ variables: { code: formValues(event).code } })}>
        <Field label="Code from your authenticator app" name="code" {...codeInput(6)} />
        <Alert message={describeError(error)} />
        <SubmitOrCancel label="Turn on" busy={loading} onCancel={onCancel} />
      </form>
    </>
  );
}

function DisableForm({ onCancel, onDone }: FormProps & { onDone: () => void }) {
  const [disable, { loading, error }] = useMutation(DisableTotpDocument, { onCompleted: onDone });
  return (
    <form noValidate onSubmit={(event) => void disable({ variables: { code: formValues(event).code } })}>
      <Field label="Authenticator or recovery code" name="code" autoComplete="one-time-code" autoFocus required />
      <Alert message={describeError(error)} />
      <SubmitOrCancel label="Turn off two-step verification" busy={loading} onCancel={onCancel} danger />
    </form>
  );
}

function RegenerateForm({ onCancel, onCodes }: FormProps & { onCodes: (codes: string[]) => void }) {
  const [regenerate, { loading, error }] = useMutation(RegenerateRecoveryCodesDocument, { onCompleted: (data) => onCodes(data.regenerateRecoveryCodes.codes) });
  return (
    <form noValidate onSubmit={(event) => void regenerate({ variables: { code: formValues(event).code } })}>
      <p className="muted">Your old recovery codes stop working.</p>
      <Field label="Code from your authenticator app" name="code" autoFocus {...codeInput(6)} />
      <Alert message={describeError(error)} />
      <SubmitOrCancel label="Get new recovery codes" busy={loading} onCancel={onCancel} />
    </form>
  );
}

/** The codes, once. "Done" waits until the person says they saved them. */
function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  return (
    <div className="recovery">
      <h3>Save your recovery codes</h3>
      <p>If you lose your authenticator app, each of these signs you in once. Keep them somewhere safe: they won't be shown again.</p>
      <ul className="codes" data-testid="recovery-codes">
        {codes.map((code) => (
          <li key={code}>{code}</li>
        ))}
      </ul>
      <label className="check">
        <input type="checkbox" checked={saved} onChange={(event) => setSaved(event.target.checked)} /> I have saved these codes
      </label>
      <button type="button" disabled={!saved} onClick={onDone}>
        Done
      </button>
    </div>
  );
}
