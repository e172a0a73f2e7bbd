import { useMutation } from "@apollo/client/react";
import { describeError } from "../errors";
import type { AuthFragment } from "../gql/graphql";
import { SignUpDocument } from "../operations";
import { Alert, BackToSignIn, Field, formValues } from "../ui";

/**
 * Email + password account; signs in straight away. No phone here: the gateway does not
 * keep a number nobody proved, so a phone is added from the account page, with a code sent to it.
 */
export function SignUp({ onAuth, onBack }: { onAuth: (auth: AuthFragment) => void; onBack: () => void }) {
  const [signUp, { loading, error }] = useMutation(SignUpDocument, { onCompleted: (data) => onAuth(data.signUp) });
  return (
    <section>
      <h1>Create account</h1>
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
      <BackToSignIn onBack={onBack} />
    </section>
  );
}
