import { Field, ID, InputType, ObjectType } from "type-graphql";

@ObjectType({ description: "A configured sign-in provider, for a \"Continue with …\" button." })
export class IdentityProvider {
  @Field(() => ID, { description: "google, apple, microsoft, github, or a generic provider's id (OIDC_PROVIDERS)." })
  id!: string;

  @Field()
  name!: string;
}

@ObjectType({ description: "An account at a provider that signs in to this user." })
export class Identity {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  provider!: string;

  @Field(() => String, { nullable: true, description: "What the provider last said; not necessarily verified." })
  email!: string | null;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;
}

/** The `state` both browser flows require: what binds the callback to the browser that started it. */
const CLIENT_STATE =
  "Required: a random value of the client's own (1 to 256 characters), echoed as &state= on redirectUrl. Store it before redirecting and compare it when the browser comes back: a callback without it is someone else's (login CSRF).";

@ObjectType()
export class SocialAuthorization {
  @Field({ description: "Send the browser here (a top-level navigation)." })
  authorizationUrl!: string;
}

@InputType()
export class StartSocialSignInInput {
  @Field(() => ID)
  provider!: string;

  @Field({ description: "Where the callback sends the browser with ?code= (or ?error=); must be on ALLOWED_ORIGINS." })
  redirectUrl!: string;

  @Field({ description: CLIENT_STATE })
  state!: string;
}

@InputType()
export class CompleteSocialSignInInput {
  @Field({ description: "The one-time code from redirectUrl (60 seconds, single use)." })
  code!: string;
}

@InputType()
export class SignInWithIdTokenInput {
  @Field(() => ID)
  provider!: string;

  @Field()
  idToken!: string;

  @Field({ description: "The nonce the app asked the provider's SDK to put in the id_token (in clear, or SHA-256 hex as Apple's does); single use." })
  nonce!: string;
}

@InputType()
export class LinkIdentityInput {
  @Field(() => ID)
  provider!: string;

  @Field({ description: "Where the callback sends the browser with ?link_code= (or ?error=), for completeLinkIdentity; must be on ALLOWED_ORIGINS." })
  redirectUrl!: string;

  @Field({ description: CLIENT_STATE })
  state!: string;
}

@InputType()
export class CompleteLinkIdentityInput {
  @Field({ description: "The one-time link_code from redirectUrl (60 seconds, single use, only for the session that called linkIdentity)." })
  code!: string;
}
