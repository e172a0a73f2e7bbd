import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { describeError, describePasskeyError } from "../errors";
import type { AccountQuery, ChallengeFragment, OtpChannel, RequestOtpInput } from "../gql/graphql";
import { AccountDocument, ChangePasswordDocument, LogoutDocument, RequestOtpDocument, RevokeOtherSessionsDocument, RevokeSessionDocument, VerifyTotpDocument } from "../operations";
import { authenticateWithPasskey, passkeysSupported } from "../passkey";
import { forgetSession, signIn } from "../session";
import { timeAgo } from "../time";
import { Alert, codeInput, Field, formValues, SubmitOrCancel, useAction } from "../ui";
import { CodeEntry } from "./CodeEntry";
import { Identities } from "./Identities";
import { Passkeys } from "./Passkeys";
import { TwoStep } from "./TwoStep";

type User = NonNullable<AccountQuery["me"]>;
type Session = AccountQuery["sessions"][number];

/** What the account page has open; one thing at a time keeps the page calm. */
export type Task = "password" | "enroll" | "disable" | "regenerate" | "stepUp" | null;

/** Signed in: who you are, two-step verification, and your sessions. */
export function Account() {
  const { data, error, loading, refetch } = useQuery(AccountDocument, { fetchPolicy: "cache-and-network" });
  const [task, setTask] = useState<Task>(null);
  const [logout, loggingOut] = useMutation(LogoutDocument);
  // Whatever the answer (even offline), this device forgets the access token.
  const signOut = () => void logout().then(forgetSession, forgetSession);

  const reload = () => void refetch();
  const user = data?.me;
  const sessions = data?.sessions ?? [];
  const current = sessions.find((s) => s.current);

  return (
    <section>
      <div className="title-row">
        <h1>Your account</h1>
        <button type="button" className="secondary" disabled={loggingOut.loading} onClick={signOut}>
          Sign out
        </button>
      </div>
      {!data && loading && <p className="muted">Loading your account…</p>}
      {!data && error && (
        <>
          <Alert message={describeError(error)} />
          <button type="button" onClick={reload}>
            Try again
          </button>
        </>
      )}
      {user && (
        <>
          <p className="signed-in-as" data-testid="signed-in-as">
            {/* A provider's account without a verified email gets an account with neither (its email stays on the identity). */}
            Signed in as {user.email ?? user.phone ?? "an account without an email or phone (see Linked accounts)"}
          </p>
          <Contacts user={user} onChanged={reload} />
          <Identities />
          <Password user={user} aal={current?.aal} open={task === "password"} setTask={setTask} onChanged={reload} />
          <Passkeys passkeys={user.passkeys ?? []} onChanged={reload} />
          <TwoStep user={user} task={task} setTask={setTask} onChanged={reload} />
          <StepUp
            totpEnabled={user.totpEnabled}
            hasPasskeys={(user.passkeys?.length ?? 0) > 0}
            aal={current?.aal}
            open={task === "stepUp"}
            setTask={setTask}
            onDone={reload}
          />
          <Sessions sessions={sessions} onChanged={reload} />
        </>
      )}
    </section>
  );
}

/** The account's email and phone; one not yet proven can be, with a code sent to it; a phone can be added that way. */
function Contacts({ user, onChanged }: { user: User; onChanged: () => void }) {
  const [proving, setProving] = useState<{ request: RequestOtpInput; challenge: ChallengeFragment } | null>(null);
  const [requestOtp, requesting] = useMutation(RequestOtpDocument);
  const rows: Array<[string, OtpChannel, string, boolean]> = [];
  if (user.email) rows.push(["Email", "EMAIL", user.email, user.emailVerified]);
  if (user.phone) rows.push(["Phone", "SMS", user.phone, user.phoneVerified]);
  const prove = (channel: OtpChannel, destination: string) => {
    const request: RequestOtpInput = { channel, destination, purpose: "VERIFY_CONTACT" };
    void requestOtp({ variables: { input: request }, onCompleted: (data) => setProving({ request, challenge: data.requestOtp }) });
  };
  return (
    <>
      <dl className="contacts" data-testid="contacts">
        {rows.map(([kind, channel, value, verified]) => (
          <div key={kind}>
            <dt>{kind}</dt>
            <dd>
              {value} <span className={verified ? "badge ok" : "badge"}>{verified ? "Verified" : "Not verified"}</span>
              {!verified && !proving && (
                <button type="button" className="link" disabled={requesting.loading} onClick={() => prove(channel, value)}>
                  Verify {kind.toLowerCase()}
                </button>
              )}
            </dd>
          </div>
        ))}
      </dl>
      {!user.phone && !proving && (
        // A number is kept only once proven: the code goes to it first.
        <form
          noValidate
          className="inline"
          onSubmit={(event) => {
            const { phone } = formValues(event);
            if (phone) prove("SMS", phone);
          }}
        >
          <Field label="Add a phone number" name="phone" type="tel" autoComplete="tel" hint="With the country code, e.g. +44 7911 123456. We text it a code." />
          <button type="submit" disabled={requesting.loading}>
            Send code
          </button>
        </form>
      )}
      <Alert message={describeError(requesting.error)} />
      {proving && (
        <section className="card">
          <CodeEntry
            request={proving.request}
            challenge={proving.challenge}
            onAuth={() => {
              setProving(null);
              onChanged();
            }}
          />
          <button type="button" className="link" onClick={() => setProving(null)}>
            Cancel
          </button>
        </section>
      )}
    </>
  );
}

type PasswordProps = { user: User; aal: string | undefined; open: boolean; setTask: (task: Task) => void; onChanged: () => void };

/**
 * Set or change the password. The current one is not needed within 15 minutes of signing
 * in: that is how a forgotten password is replaced (sign in with an email code first).
 */
function Password({ user, aal, open, setTask, onChanged }: PasswordProps) {
  const [saved, setSaved] = useState(false);
  const [changePassword, { loading, error }] = useMutation(ChangePasswordDocument, {
    onCompleted: () => {
      setSaved(true);
      setTask(null);
      onChanged(); // the other sessions are gone from the list
    },
  });
  const needsStepUp = user.totpEnabled && aal !== "aal2";
  return (
    <section className="card">
      <h2>Password</h2>
      {saved && !open && (
        <p role="status" className="success" data-testid="password-saved">
          Password saved. Your other devices were signed out.
        </p>
      )}
      {!open && (
        <>
          <p className="muted">{user.hasPassword ? "You can sign in with your email and password." : "You sign in without a password. Add one to sign in with it too."}</p>
          <button
            type="button"
            onClick={() => {
              setSaved(false);
              setTask("password");
            }}
          >
            {user.hasPassword ? "Change password" : "Set a password"}
          </button>
        </>
      )}
      {open && (
        <form
          noValidate
          onSubmit={(event) => {
            const { currentPassword, newPassword } = formValues(event);
            void changePassword({ variables: { input: { newPassword, currentPassword: currentPassword || null } } });
          }}
        >
          {user.hasPassword && (
            <Field
              label="Current password"
              name="currentPassword"
              type="password"
              autoComplete="current-password"
              hint="Not needed within 15 minutes of signing in: that's how a forgotten password is replaced."
            />
          )}
          <Field label="New password" name="newPassword" type="password" autoComplete="new-password" required hint="At least 8 characters. A few unrelated words work well." />
          <Alert
            message={describeError(error, {
              FORBIDDEN: needsStepUp
                ? "First confirm it's you with your authenticator app (Step-up verification, below)."
                : "Enter your current password, or sign out and sign in again first.",
            })}
          />
          <SubmitOrCancel label="Save password" busy={loading} onCancel={() => setTask(null)} />
        </form>
      )}
    </section>
  );
}

type StepUpProps = { totpEnabled: boolean; hasPasskeys: boolean; aal: string | undefined; open: boolean; setTask: (task: Task) => void; onDone: () => void };

/** Step-up: a fresh TOTP code, or a passkey, lifts this session to aal2 (new tokens, same session). */
function StepUp({ totpEnabled, hasPasskeys, aal, open, setTask, onDone }: StepUpProps) {
  const client = useApolloClient();
  // Signed in, without mfaToken: verifyPasskey steps this session up, as verifyTotp does.
  const withPasskey = useAction(async () => {
    const auth = await authenticateWithPasskey(client);
    if (auth.tokens) await signIn(auth.tokens);
    onDone();
  });
  const passkeyStepUp = hasPasskeys && passkeysSupported();
  const [verifyTotp, { loading, error }] = useMutation(VerifyTotpDocument, {
    onCompleted: async (data) => {
      // Without mfaToken this replaces the session's tokens; the refresh token comes as a cookie.
      if (data.verifyTotp.tokens) await signIn(data.verifyTotp.tokens);
      setTask(null);
      onDone();
    },
  });
  return (
    <section className="card">
      <h2>Step-up verification</h2>
      <p data-testid="session-level">{aal === "aal2" ? "Verified with two steps" : "Verified with one step"}</p>
      {aal !== "aal2" && !totpEnabled && !passkeyStepUp && <p className="muted">Set up an authenticator app to confirm sensitive actions with a second step.</p>}
      {aal !== "aal2" && !open && (
        <div className="actions">
          {totpEnabled && (
            <button type="button" onClick={() => setTask("stepUp")}>
              Confirm it's you
            </button>
          )}
          {passkeyStepUp && (
            <button type="button" className={totpEnabled ? "secondary" : undefined} disabled={withPasskey.busy} onClick={() => withPasskey.run()}>
              Confirm with a passkey
            </button>
          )}
        </div>
      )}
      <Alert message={describePasskeyError(withPasskey.error, { UNAUTHENTICATED: "That passkey isn't one of this account's. Try another." })} />
      {open && (
        <form noValidate onSubmit={(event) => void verifyTotp({ variables: { input: { code: formValues(event).code } } })}>
          <Field label="Code from your authenticator app" name="code" autoFocus {...codeInput(6)} />
          <Alert message={describeError(error)} />
          <SubmitOrCancel label="Verify" busy={loading} onCancel={() => setTask(null)} />
        </form>
      )}
    </section>
  );
}

function Sessions({ sessions, onChanged }: { sessions: Session[]; onChanged: () => void }) {
  const [revokeSession, revoking] = useMutation(RevokeSessionDocument, { onCompleted: onChanged });
  const [revokeOthers, revokingOthers] = useMutation(RevokeOtherSessionsDocument, { onCompleted: onChanged });
  const error = revoking.error ?? revokingOthers.error;
  const newestFirst = [...sessions].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  return (
    <section className="card">
      <h2>Sessions</h2>
      <p className="muted">Where you're signed in. Revoke any you don't recognise.</p>
      <Alert message={describeError(error)} />
      <ul className="sessions" data-testid="sessions">
        {newestFirst.map((s) => (
          <li key={s.id} data-testid="session">
            <div>
              <strong>{describeBrowser(s.userAgent)}</strong>
              {s.current && <span className="badge ok">This device</span>}
              <div className="muted">
                Started {timeAgo(s.createdAt)} · last used {timeAgo(s.lastUsedAt)} · {s.aal === "aal2" ? "two steps" : "one step"} ({s.aal})
              </div>
            </div>
            {!s.current && (
              <button type="button" className="secondary" disabled={revoking.loading} onClick={() => void revokeSession({ variables: { id: s.id } })}>
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
      {sessions.length > 1 && (
        <button type="button" className="secondary" disabled={revokingOthers.loading} onClick={() => void revokeOthers()}>
          Sign out all other devices
        </button>
      )}
    </section>
  );
}

/** "Chrome on Linux" from a User-Agent string. */
function describeBrowser(ua: string | null): string {
  if (!ua) return "Unknown browser";
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : null;
  const os = /Windows/.test(ua) ? "Windows" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : null;
  if (!browser) return ua.length > 40 ? `${ua.slice(0, 40)}…` : ua;
  return os ? `${browser} on ${os}` : browser;
}
