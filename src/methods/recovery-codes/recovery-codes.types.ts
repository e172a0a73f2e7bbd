import { Field, InputType } from "type-graphql";

@InputType()
export class UseRecoveryCodeInput {
  @Field()
  mfaToken!: string;

  @Field()
  code!: string;
}
