import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";

export enum OtpChannel {
  EMAIL = "EMAIL",
  SMS = "SMS",
  VOICE = "VOICE",
}
registerEnumType(OtpChannel, {
  name: "OtpChannel",
  valuesConfig: { VOICE: { description: "A phone call that reads the code digit by digit; same limits and budget as SMS." } },
});

export enum OtpPurpose {
  SIGN_IN = "SIGN_IN",
  MFA = "MFA",
  VERIFY_CONTACT = "VERIFY_CONTACT",
}
registerEnumType(OtpPurpose, {
  name: "OtpPurpose",
  valuesConfig: {
    SIGN_IN: { description: "Passwordless sign-in (creates the account on first use unless disabled)." },
    MFA: { description: "Second factor after login; needs mfaToken; the code goes to the account's verified email/phone." },
    VERIFY_CONTACT: { description: "Signed-in user proves an email or phone before it is attached and marked verified." },
  },
});

@InputType()
export class RequestOtpInput {
  @Field(() => OtpChannel)
  channel!: OtpChannel;

  @Field(() => String, { nullable: true, description: "Email address or E.164 phone number; ignored for MFA." })
  destination?: string | null;

  @Field(() => OtpPurpose, { defaultValue: OtpPurpose.SIGN_IN })
  purpose!: OtpPurpose;

  @Field(() => String, { nullable: true })
  mfaToken?: string | null;
}

@InputType()
export class VerifyOtpInput {
  @Field(() => ID)
  challengeId!: string;

  @Field()
  code!: string;
}

@ObjectType()
export class OtpChallenge {
  @Field(() => ID)
  challengeId!: string;

  @Field(() => OtpChannel)
  channel!: OtpChannel;

  @Field({ description: "Masked, e.g. j***@example.com or +44*******789 (one star per hidden digit)." })
  destinationHint!: string;

  @Field()
  expiresAt!: Date;

  @Field({ description: "Earliest time a new code may be requested for the same destination." })
  resendAvailableAt!: Date;

  @Field(() => Int)
  codeLength!: number;
}
