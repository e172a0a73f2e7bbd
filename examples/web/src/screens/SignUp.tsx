import { useMutation } from "@apollo/client/react";
import { describeError } from "../errors";
import type { AuthFragment } from "../gql/graphql";
import { SignUpDocument } from "../operations";
import { Alert, BackToSignIn, Field, formValues } from "../ui";

/** Email + password account (a phone number is optional); signs in straight away. */
export function SignUp({ onAuth, onBack }: { onAuth: (auth: AuthFragment) => void; onBack: () => void }) {
  const [signUp, { loading, error }] = useMutation(SignUpDocument, { onCompleted: (data) => onAuth(data.signUp) });
  return (
    <section>
      <h1>Create account</h1>
      <form
        noValidate
        onSubmit={(event) => {
          const { email, password, phone } = formValues(event);
          void signUp({ variables: { input: { email, password, phone: phone || null } } });
        }}
      >
        <Field label="Email" name="email" type="email" autoComplete="email" required />
        <Field label="Password" name="password" type="password" autoComplete="new-password" required hint="Long and hard to guess: a few unrelated words work well." />
        <Field label="Phone number (optional)" name="phone" type="tel" autoComplete="tel" hint="With the country code, e.g. +44 7911 123456" />
        <Alert message={describeError(error)} />
        <button type="submit" disabled={loading}>
          Create account
        </button>
      </form>
      <BackToSignIn onBack={onBack} />
    </section>
  );
}
