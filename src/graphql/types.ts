import { Directive, Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";

/** Shared GraphQL types of the spine; each sign-in method keeps its own beside it. */

export enum AuthStatus {
  AUTHENTICATED = "AUTHENTICATED",
  MFA_REQUIRED = "MFA_REQUIRED",
}
registerEnumType(AuthStatus, { name: "AuthStatus" });

/**
 * The contract's MfaMethod enum: one value per second factor a method declares. graphql/
 * knows no method, so the schema assembly declares them (declareMfaMethods) before building.
 */
const MfaMethodEnum: Record<string, string> = {};
registerEnumType(MfaMethodEnum, { name: "MfaMethod" });

export function declareMfaMethods(names: readonly string[]): void {
  for (const name of names) MfaMethodEnum[name] = name;
}

/** A federation entity: other subgraphs extend it by id (e.g. `orders`). */
@Directive('@key(fields: "id")')
@ObjectType()
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true, description: "Visible to the user themself only; null for anyone else." })
  email!: string | null;

  @Field()
  emailVerified!: boolean;

  @Field(() => String, { nullable: true, description: "E.164. Visible to the user themself only." })
  phone!: string | null;

  @Field()
  phoneVerified!: boolean;

  @Field()
  totpEnabled!: boolean;

  @Field()
  createdAt!: Date;
}

@ObjectType()
export class Session {
  @Field(() => ID)
  id!: string;

  @Field()
  createdAt!: Date;

  @Field()
  lastUsedAt!: Date;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true })
  ip!: string | null;

  @Field({ description: "aal1 or aal2 (NIST SP 800-63B)." })
  aal!: string;

  @Field(() => [String], { description: "RFC 8176 methods used, e.g. [pwd, otp, mfa]." })
  amr!: string[];

  @Field()
  current!: boolean;
}

@ObjectType()
export class AuthTokens {
  @Field({ description: "JWT (ES256, kid in header), verifiable with GET /.well-known/jwks.json." })
  accessToken!: string;

  @Field({ description: "Opaque; single use (rotated by refreshTokens). Empty when delivered as an httpOnly cookie instead (X-Refresh-Token-Delivery: cookie)." })
  refreshToken!: string;

  @Field()
  tokenType!: string;

  @Field(() => Int, { description: "Seconds until accessToken expires." })
  expiresIn!: number;
}

@ObjectType()
export class AuthPayload {
  @Field(() => AuthStatus)
  status!: AuthStatus;

  @Field(() => AuthTokens, { nullable: true, description: "Present when AUTHENTICATED." })
  tokens?: AuthTokens | null;

  @Field(() => String, {
    nullable: true,
    description: "Present when MFA_REQUIRED: short-lived, accepted only to finish MFA, never as an access token.",
  })
  mfaToken?: string | null;

  @Field(() => [MfaMethodEnum], { description: "The second factors the account can finish with; empty when AUTHENTICATED." })
  mfaMethods!: string[];

  @Field(() => User, { nullable: true, description: "Present when AUTHENTICATED (or after VERIFY_CONTACT)." })
  user?: User | null;

  @Field({ description: "True when this call created the account (passwordless sign-up)." })
  isNewUser!: boolean;
}

/** One-time recovery codes, shown once: issued by TOTP enrolment, spent by recovery-codes. */
@ObjectType()
export class RecoveryCodes {
  @Field(() => [String])
  codes!: string[];
}
