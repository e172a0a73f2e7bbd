import { Field, ID, InputType, ObjectType } from "type-graphql";

@ObjectType({ description: "A passkey of the signed-in user (WebAuthn credential)." })
export class Passkey {
  @Field(() => ID, { description: "Our id for it (not the credential id)." })
  id!: string;

  @Field({ description: "User-editable; by default the provider's name when its AAGUID is known, else \"Passkey\"." })
  name!: string;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;

  @Field({ description: "Backed up (a synced passkey), as of its last use." })
  backedUp!: boolean;
}

@ObjectType({
  description:
    "Options for the browser: optionsJson is PublicKeyCredentialCreationOptionsJSON or ...RequestOptionsJSON, ready for PublicKeyCredential.parseCreationOptionsFromJSON / parseRequestOptionsFromJSON (or @simplewebauthn/browser).",
})
export class PasskeyOptions {
  @Field(() => ID, { description: "Send it back with the browser's answer; single use, for PASSKEY_TIMEOUT_SECONDS." })
  challengeId!: string;

  @Field()
  optionsJson!: string;
}

@InputType()
export class AddPasskeyInput {
  @Field(() => ID)
  challengeId!: string;

  @Field({ description: "JSON of the PublicKeyCredential navigator.credentials.create() gave: credential.toJSON()." })
  responseJson!: string;

  @Field(() => String, { nullable: true, description: "1 to 64 characters; unset: named after its provider." })
  name?: string | null;
}

@InputType()
export class PasskeyAuthenticationOptionsInput {
  @Field(() => String, { nullable: true, description: "From an MFA_REQUIRED sign-in: options to finish it with one of the account's passkeys." })
  mfaToken?: string | null;

  @Field(() => String, { nullable: true, description: "What the user typed, if anything; never changes the answer (no account is revealed)." })
  email?: string | null;
}

@InputType()
export class VerifyPasskeyInput {
  @Field(() => ID)
  challengeId!: string;

  @Field({ description: "JSON of the PublicKeyCredential navigator.credentials.get() gave: credential.toJSON()." })
  responseJson!: string;

  @Field(() => String, { nullable: true, description: "The one the options were asked with, to finish an MFA_REQUIRED sign-in." })
  mfaToken?: string | null;
}

@InputType()
export class RenamePasskeyInput {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;
}
