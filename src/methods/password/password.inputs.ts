import { Field, InputType } from "type-graphql";

@InputType()
export class SignUpInput {
  @Field()
  email!: string;

  @Field()
  password!: string;

  @Field(() => String, {
    nullable: true,
    description: "Checked for shape (BAD_USER_INPUT on phone) but not stored: prove it afterwards with requestOtp(purpose: VERIFY_CONTACT).",
  })
  phone?: string | null;
}

@InputType()
export class ChangePasswordInput {
  @Field(() => String, { nullable: true, description: "Needed unless this session signed in within the last 15 minutes." })
  currentPassword?: string | null;

  @Field()
  newPassword!: string;
}

@InputType()
export class LoginInput {
  @Field()
  email!: string;

  @Field()
  password!: string;
}
