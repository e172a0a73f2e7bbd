import { Field, ID, InputType, ObjectType, registerEnumType } from "type-graphql";
import { MAX_CLIENT_STATE_LENGTH } from "../../core/redirect";
import { AuthPayload } from "../../graphql/types";

/** The longest `state` a client may bind a link's redirect to (OAuth clients use 32-64). */

export enum MagicLinkState {
  PENDING = "PENDING",
  OPENED = "OPENED",
  CONFIRMED = "CONFIRMED",
  CONSUMED = "CONSUMED",
  DENIED = "DENIED",
  EXPIRED = "EXPIRED",
}
registerEnumType(MagicLinkState, {
  name: "MagicLinkState",
  valuesConfig: {
    OPENED: { description: "The link's page was opened; nothing is approved yet." },
    CONSUMED: { description: "The link signed in the device that opened it only (no match code given)." },
  },
});

@InputType()
export class RequestMagicLinkInput {
  @Field()
  email!: string;

  @Field(() => String, { nullable: true, description: "Where the confirm page sends the browser afterwards; must match an allow-listed origin." })
  redirectUrl?: string | null;

  @Field(() => String, {
    nullable: true,
    description: `Addition: an opaque value (at most ${MAX_CLIENT_STATE_LENGTH} characters) the client stored before asking; the redirect to redirectUrl carries it back as &state=, so the app signs in only from a link it asked for.`,
  })
  state?: string | null;
}

@ObjectType()
export class MagicLinkRequest {
  @Field(() => ID)
  requestId!: string;

  @Field({ description: "Secret: only its holder may subscribe to magicLinkStatus for this request." })
  listenToken!: string;

  @Field({ description: "Short code shown on the waiting device; the person types or picks it on the device that opened the link." })
  matchCode!: string;

  @Field()
  expiresAt!: Date;
}

@InputType()
export class ConsumeMagicLinkInput {
  @Field()
  token!: string;

  @Field(() => String, { nullable: true, description: "When given and right, the waiting device is signed in too; when wrong, nobody is." })
  matchCode?: string | null;
}

@ObjectType()
export class MagicLinkEvent {
  @Field(() => ID)
  requestId!: string;

  @Field(() => MagicLinkState)
  state!: MagicLinkState;

  @Field(() => AuthPayload, { nullable: true, description: "Only in the CONFIRMED event, only to the holder of listenToken, only once." })
  auth?: AuthPayload | null;
}
