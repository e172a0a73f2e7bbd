import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import type { Principal } from "../../core/auth";
import { CurrentUser } from "../../graphql/auth";
import { OWNER_VIEW, toAuthPayload, type OwnedUser } from "../../graphql/auth-payload";
import type { GatewayContext } from "../../graphql/context";
import { AuthPayload, User } from "../../graphql/types";
import type { SocialService } from "./social.service";
import {
  CompleteLinkIdentityInput,
  CompleteSocialSignInInput,
  Identity,
  IdentityProvider,
  LinkIdentityInput,
  SignInWithIdTokenInput,
  SocialAuthorization,
  StartSocialSignInInput,
} from "./social.types";

@Resolver(() => User)
export class SocialResolver {
  constructor(private readonly social: SocialService) {}

  @Query(() => [IdentityProvider], { description: "The configured sign-in providers, for \"Continue with …\" buttons. Public." })
  identityProviders(): IdentityProvider[] {
    return this.social.providers();
  }

  @FieldResolver(() => [Identity], { nullable: true, description: "Providers this account signs in with. The user themself only; null for anyone else." })
  async identities(@Root() user: OwnedUser, @Ctx() ctx: GatewayContext): Promise<Identity[] | null> {
    if (user[OWNER_VIEW] !== true && ctx.principal?.userId !== user.id) return null;
    return ctx.memo(`identities:${user.id}`, () => this.social.identitiesOf(user.id));
  }

  @Mutation(() => SocialAuthorization, { description: "The provider's authorization URL for a browser sign-in (PKCE S256, state, nonce). redirectUrl must be on ALLOWED_ORIGINS." })
  async startSocialSignIn(@Arg("input") input: StartSocialSignInInput, @Ctx() ctx: GatewayContext): Promise<SocialAuthorization> {
    return { authorizationUrl: await this.social.start(input, ctx.client) };
  }

  @Mutation(() => AuthPayload, { description: "Trades the one-time code the callback put on redirectUrl for a sign-in (MFA_REQUIRED when TOTP is on)." })
  async completeSocialSignIn(@Arg("input") input: CompleteSocialSignInInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    return toAuthPayload(await this.social.complete(input.code, ctx.client), ctx);
  }

  @Mutation(() => AuthPayload, { description: "Native apps (Google One Tap, Sign in with Apple on iOS/Android): an id_token checked like the browser flow's." })
  async signInWithIdToken(@Arg("input") input: SignInWithIdTokenInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    return toAuthPayload(await this.social.signInWithIdToken(input, ctx.client), ctx);
  }

  @Authorized()
  @Mutation(() => SocialAuthorization, {
    description:
      "Starts linking an identity at a provider to the signed-in account (recent sign-in, aal2 with TOTP on). The callback sends the browser to redirectUrl with ?link_code=&state= (or ?error=); completeLinkIdentity links it.",
  })
  async linkIdentity(@Arg("input") input: LinkIdentityInput, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<SocialAuthorization> {
    return { authorizationUrl: await this.social.startLink(principal, input, ctx.client) };
  }

  @Authorized()
  @Mutation(() => Identity, {
    description:
      "Links the identity behind the link_code the callback put on redirectUrl (60 seconds, single use), for the session that called linkIdentity only, while it is live. Check the state first.",
  })
  async completeLinkIdentity(@Arg("input") input: CompleteLinkIdentityInput, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<Identity> {
    return this.social.completeLink(principal, input.code, ctx.client);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Unlinks one of the signed-in user's identities (recent sign-in); never the last way to sign in." })
  unlinkIdentity(@Arg("id", () => ID) id: string, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<boolean> {
    return this.social.unlink(principal, id, ctx.client);
  }
}
