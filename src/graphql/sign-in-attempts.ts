import { defaultFieldResolver, type GraphQLSchema } from "graphql";
import type { Metrics } from "../core/ports";
import type { GatewayContext } from "./context";
import { contractError } from "./format-error";

/** What a sign-in mutation answered: its status, or no new session (a contact proven). */
function outcomeOf(result: unknown): string {
  const payload = result as { status?: unknown; tokens?: unknown } | null;
  if (payload?.status === "MFA_REQUIRED") return "mfa_required";
  return payload?.tokens ? "authenticated" : "verified";
}

/**
 * Counts every sign-in attempt by method and outcome, over HTTP and WebSocket alike, and
 * logs each failure in one line an on-call engineer can read: the method and the error
 * code, never the input. `signIns` maps Mutation fields to method labels (each method's
 * manifest declares its own); only those fields are wrapped, so other fields cost nothing.
 */
export function countSignInAttempts(schema: GraphQLSchema, signIns: ReadonlyMap<string, string>, metrics: Metrics): void {
  const fields = schema.getMutationType()?.getFields() ?? {};
  for (const [fieldName, method] of signIns) {
    const field = fields[fieldName];
    if (!field) throw new Error(`countSignInAttempts: no Mutation.${fieldName}`);
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = async (source, args, ctx: GatewayContext, info) => {
      try {
        const result = await resolve(source, args, ctx, info);
        metrics.signInAttempt(method, outcomeOf(result));
        return result;
      } catch (error) {
        const known = contractError(error);
        const reason = known?.code ?? "INTERNAL_SERVER_ERROR";
        metrics.signInAttempt(method, reason.toLowerCase());
        // Unexpected errors and outages are logged where every error is (gateway.ts).
        if (known && known.code !== "UNAVAILABLE") {
          const level = known.code === "RATE_LIMITED" || known.code === "TOO_MANY_ATTEMPTS" ? "warn" : "info";
          ctx.log[level]({ method, reason, message: known.message, requestId: ctx.requestId }, "sign-in failed");
        }
        throw error;
      }
    };
  }
}
