import { useMutation } from "@apollo/client/react";
import { useState } from "react";
import { describeError, type MessageOverrides } from "../errors";
import type { AuthFragment, ChallengeFragment, RequestOtpInput } from "../gql/graphql";
import { RequestOtpDocument, VerifyOtpDocument } from "../operations";
import { clock, secondsUntil } from "../time";
import { Alert, codeInput, Field, formValues, useNow } from "../ui";

type Props = {
  /** What was asked for, to ask again ("Send a new code"). */
  request: RequestOtpInput;
  challenge: ChallengeFragment;
  onAuth: (auth: AuthFragment) => void;
  overrides?: MessageOverrides;
};

/** Enter a one-time code (email or SMS), or ask for a new one once the gateway allows it. */
export function CodeEntry({ request, challenge: first, onAuth, overrides }: Props) {
  const [challenge, setChallenge] = useState(first);
  const [verifyOtp, verifying] = useMutation(VerifyOtpDocument, { onCompleted: (data) => onAuth(data.verifyOtp) });
  const [requestOtp, resending] = useMutation(RequestOtpDocument, {
    onCompleted: (data) => {
      setChallenge(data.requestOtp);
      verifying.reset();
    },
  });
  const now = useNow();
  const wait = secondsUntil(challenge.resendAvailableAt, now);

  return (
    <>
      <p className="lead">
        We sent a code to <strong data-testid="destination-hint">{challenge.destinationHint}</strong>.
      </p>
      <form
        noValidate
        onSubmit={(event) => {
          const { code } = formValues(event);
          resending.reset();
          void verifyOtp({ variables: { input: { challengeId: challenge.challengeId, code } } });
        }}
      >
        <Field key={challenge.challengeId} label="Code" name="code" autoFocus {...codeInput(challenge.codeLength)} />
        <Alert message={describeError(verifying.error ?? resending.error, overrides)} />
        <button type="submit" disabled={verifying.loading}>
          Verify
        </button>
      </form>
      <div className="resend">
        <button type="button" className="secondary" disabled={wait > 0 || resending.loading} onClick={() => void requestOtp({ variables: { input: request } })}>
          Send a new code
        </button>
        {wait > 0 && <p data-testid="resend-countdown">You can ask for a new code in {clock(wait)}</p>}
      </div>
    </>
  );
}
