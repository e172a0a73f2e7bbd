import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import type { Principal } from "../../core/auth";
import { AuthError } from "../../core/errors";
import type { UserRepo } from "../../core/ports";
import { CurrentUser } from "../../graphql/auth";
import { deliverRefreshToken, OWNER_VIEW, signedInPayload, toAuthPayload, type OwnedUser } from "../../graphql/auth-payload";
import type { GatewayContext } from "../../graphql/context";
import { AuthPayload, User } from "../../graphql/types";
import type { PasskeyRecord } from "./passkey.repo";
import type { PasskeyService } from "./passkey.service";
import { AddPasskeyInput, Passkey, PasskeyAuthenticationOptionsInput, PasskeyOptions, RenamePasskeyInput, VerifyPasskeyInput } from "./passkey.types";

const toPasskey = (p: PasskeyRecord): Passkey => ({ id: p.id, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt, backedUp: p.backupState });

@Resolver(() => User)
export class PasskeyResolver {
  constructor(
    private readonly service: PasskeyService,
    private readonly users: UserRepo,
  ) {}

  @FieldResolver(() => [Passkey], { nullable: true, description: "The user's passkeys. Visible to the user themself only; null for anyone else." })
  async passkeys(@Root() user: OwnedUser, @Ctx() ctx: GatewayContext): Promise<Passkey[] | null> {
    const isOwner = user[OWNER_VIEW] === true || ctx.principal?.userId === user.id;
    return isOwner ? (await this.service.list(user.id)).map(toPasskey) : null;
  }

  @Authorized()
  @Mutation(() => PasskeyOptions, {
    description: "Creation options for the signed-in user's new passkey (a recent sign-in, and aal2 when TOTP is on, as for other account changes).",
  })
  passkeyRegistrationOptions(@CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<PasskeyOptions> {
    return this.service.registrationOptions(principal, ctx.client);
  }

  @Authorized()
  @Mutation(() => Passkey, { description: "Checks the browser's answer to passkeyRegistrationOptions and stores the passkey; a notice email goes to a proven address." })
  async addPasskey(@Arg("input") input: AddPasskeyInput, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<Passkey> {
    return toPasskey(await this.service.add(principal, input, ctx.client));
  }

  @Mutation(() => PasskeyOptions, {
    description:
      "Request options: no mfaToken and not signed in = sign-in (discoverable credentials, no allowCredentials, also for autofill; `email` never changes the answer); mfaToken = finish an MFA sign-in; signed in without mfaToken = step-up.",
  })
  passkeyAuthenticationOptions(
    @Ctx() ctx: GatewayContext,
    @Arg("input", () => PasskeyAuthenticationOptionsInput, { nullable: true }) input?: PasskeyAuthenticationOptionsInput | null,
  ): Promise<PasskeyOptions> {
    return this.service.authenticationOptions({ mfaToken: input?.mfaToken }, ctx.principal, ctx.client);
  }

  @Mutation(() => AuthPayload, { description: "Signs in with a passkey (aal2), finishes an MFA_REQUIRED sign-in (mfaToken), or steps the current session up (signed in)." })
  async verifyPasskey(@Arg("input") input: VerifyPasskeyInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    const outcome = await this.service.verify(input, ctx.principal, ctx.client);
    if (outcome.kind === "signed_in") return toAuthPayload(outcome.result, ctx);
    // A step-up: delivered before anything else can fail (the old refresh token is retired already).
    const tokens = deliverRefreshToken(outcome.tokens, ctx);
    return signedInPayload(await this.users.findById(outcome.userId), tokens);
  }

  @Authorized()
  @Mutation(() => Passkey, { description: "Renames one of the signed-in user's passkeys (recent sign-in, like removePasskey)." })
  async renamePasskey(@Arg("input") input: RenamePasskeyInput, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<Passkey> {
    return toPasskey(await this.service.rename(principal, input.id, input.name, ctx.client));
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Removes one of the signed-in user's passkeys (recent sign-in); never the last way to sign in." })
  removePasskey(@Arg("id", () => ID) id: string, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<boolean> {
    if (!id) throw new AuthError("BAD_USER_INPUT", "Give the passkey's id.", { field: "id" });
    return this.service.remove(principal, id, ctx.client);
  }
}
