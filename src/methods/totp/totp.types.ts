import { Field, InputType, ObjectType } from "type-graphql";

@ObjectType()
export class TotpEnrollment {
  @Field({ description: "Base32, for manual entry." })
  secret!: string;

  @Field({ description: "otpauth://totp/... URI (issuer, account, SHA1, 6 digits, 30 s)." })
  otpauthUrl!: string;

  @Field({ description: "PNG data URL of a QR code encoding otpauthUrl." })
  qrCodeDataUrl!: string;
}

@InputType()
export class VerifyTotpInput {
  @Field(() => String, { nullable: true })
  mfaToken?: string | null;

  @Field()
  code!: string;
}
