import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import { AuthError } from "../../core/errors";
import { CurrentUser } from "../../graphql/auth";
import { deliverRefreshToken, signedInPayload, toAuthPayload } from "../../graphql/auth-payload";
import type { GatewayContext } from "../../graphql/context";
import { AuthPayload, RecoveryCodes } from "../../graphql/types";
import type { UserRepo } from "../../core/ports";
import type { Principal } from "../../core/auth";
import type { TotpService } from "./totp.service";
import { TotpEnrollment, VerifyTotpInput } from "./totp.types";

@Resolver()
export class TotpResolver {
  constructor(
    private readonly totp: TotpService,
    private readonly users: UserRepo,
  ) {}

  @Authorized()
  @Mutation(() => TotpEnrollment, { description: "Starts TOTP enrollment for the signed-in user (authenticator apps)." })
  enrollTotp(
    @CurrentUser() principal: Principal,
    @Ctx() ctx: GatewayContext,
    @Arg("code", () => String, { nullable: true, description: "A current code, needed only to replace an app that is already on." })
    code?: string | null,
  ): Promise<TotpEnrollment> {
    return this.totp.enroll(principal, code, ctx.client);
  }

  @Authorized()
  @Mutation(() => RecoveryCodes, { description: "Turns TOTP on with a first valid code; returns one-time recovery codes, shown once." })
  async confirmTotp(@Arg("code") code: string, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<RecoveryCodes> {
    return { codes: await this.totp.confirm(principal, code, ctx.client) };
  }

  @Mutation(() => AuthPayload, { description: "Completes an MFA login (mfaToken) or steps the current session up (no mfaToken) with a TOTP code." })
  async verifyTotp(@Arg("input") input: VerifyTotpInput, @Ctx() ctx: GatewayContext): Promise<AuthPayload> {
    if (input.mfaToken) return toAuthPayload(await this.totp.completeMfa(input.mfaToken, input.code, ctx.client), ctx);
    if (!ctx.principal) throw new AuthError("UNAUTHENTICATED", "Give the mfaToken from login, or sign in to step up this session.");
    // Delivered before anything else can fail: the old refresh token is retired already.
    const tokens = deliverRefreshToken(await this.totp.stepUp(ctx.principal, input.code, ctx.client), ctx);
    const user = await this.users.findById(ctx.principal.userId);
    return signedInPayload(user, tokens);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Turns TOTP off; needs a current TOTP or recovery code." })
  disableTotp(@Arg("code") code: string, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<boolean> {
    return this.totp.disable(principal, code, ctx.client);
  }

  @Authorized()
  @Mutation(() => RecoveryCodes, { description: "Replaces the recovery codes with ten new ones, shown once; needs a current TOTP code." })
  async regenerateRecoveryCodes(@Arg("code") code: string, @CurrentUser() principal: Principal, @Ctx() ctx: GatewayContext): Promise<RecoveryCodes> {
    return { codes: await this.totp.regenerateRecoveryCodes(principal, code, ctx.client) };
  }
}
