import { Arg, Ctx, ID, Mutation, Resolver, Root, Subscription } from "type-graphql";
import { toAuthPayload } from "../../graphql/auth-payload";
import type { GatewayContext } from "../../graphql/context";
import { resolverFor } from "../../graphql/schema-registry";
import { AuthPayload } from "../../graphql/types";
import type { MagicLinkService } from "./magic-link.service";
import { linkStatusEvents } from "./magic-link.status";
import { ConsumeMagicLinkInput, MagicLinkEvent, MagicLinkRequest, RequestMagicLinkInput } from "./magic-link.types";

@Resolver()
export class MagicLinkResolver {
  constructor(readonly links: MagicLinkService) {}

  @Mutation(() => MagicLinkRequest, { description: "Emails a sign-in link. The caller keeps requestId + listenToken to wait for the click." })
  requestMagicLink(@Arg("input") input: RequestMagicLinkInput, @Ctx() ctx: GatewayContext): Promise<MagicLinkRequest> {
    return this.links.request(input, ctx.client);
  }

  @Mutation(() => AuthPayload, { description: "Called by the device that opened the link. With the right matchCode it also signs in the waiting device." })
  async consumeMagicLink(@Arg("input") input: ConsumeMagicLinkInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    return toAuthPayload(await this.links.consume(input, ctx.client), ctx);
  }

  @Subscription(() => MagicLinkEvent, {
    description: "Status of a magic-link request, from the device that asked for it. The first event is the current state.",
    subscribe: ({ args, info }) => linkStatusEvents(resolverFor(info.schema, MagicLinkResolver).links, args.requestId, args.listenToken),
  })
  magicLinkStatus(
    @Root() event: MagicLinkEvent,
    @Arg("requestId", () => ID) _requestId: string,
    @Arg("listenToken") _listenToken: string,
  ): MagicLinkEvent {
    return event;
  }
}
