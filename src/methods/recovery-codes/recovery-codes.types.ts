import { Field, InputType, ObjectType } from "type-graphql";

@ObjectType()
export class RecoveryCodes {
  @Field(() => [String])
  codes!: string[];
}

@InputType()
export class UseRecoveryCodeInput {
  @Field()
  mfaToken!: string;

  @Field()
  code!: string;
}
