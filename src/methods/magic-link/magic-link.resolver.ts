import { Arg, ID, Mutation, Resolver, Root, Subscription } from "type-graphql";
import { AuthError } from "../../core/errors";
import { AuthPayload } from "../../graphql/types";
import { ConsumeMagicLinkInput, MagicLinkEvent, MagicLinkRequest, RequestMagicLinkInput } from "./magic-link.types";

const notYet = () => new AuthError("NOT_AVAILABLE", "Magic links are not available on this gateway yet.");

/** The contract's fields, answering NOT_AVAILABLE until magic links are built. */
@Resolver()
export class MagicLinkResolver {
  @Mutation(() => MagicLinkRequest, { description: "Emails a sign-in link. The caller keeps requestId + listenToken to wait for the click." })
  requestMagicLink(@Arg("input") _input: RequestMagicLinkInput): MagicLinkRequest {
    throw notYet();
  }

  @Mutation(() => AuthPayload, { description: "Called by the device that opened the link. With the right matchCode it also signs in the waiting device." })
  consumeMagicLink(@Arg("input") _input: ConsumeMagicLinkInput): AuthPayload {
    throw notYet();
  }

  @Subscription(() => MagicLinkEvent, {
    description: "Status of a magic-link request, from the device that asked for it. The first event is the current state.",
    subscribe: () => {
      throw notYet();
    },
  })
  magicLinkStatus(
    @Root() event: MagicLinkEvent,
    @Arg("requestId", () => ID) _requestId: string,
    @Arg("listenToken") _listenToken: string,
  ): MagicLinkEvent {
    return event;
  }
}
