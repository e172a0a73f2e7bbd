import { defineMethod } from "../deps";
import { RecoveryCodesResolver } from "./recovery-codes.resolver";
import { RecoveryCodeService } from "./recovery-codes.service";

export const recoveryCodesMethod = defineMethod({
  id: "recovery-codes",
  resolvers: [RecoveryCodesResolver],
  signIns: { useRecoveryCode: "recovery_code" },
  // Issued with an authenticator app, and good while it is on.
  secondFactors: [{ mfaMethod: "RECOVERY_CODE", authenticator: "recovery_code", offeredTo: (u) => u.totpEnabled }],
  create: (d) => [
    new RecoveryCodesResolver(
      new RecoveryCodeService({
        users: d.repositories.users,
        codes: d.recoveryCodes,
        sessions: d.sessions,
        limiter: d.limiter,
        audit: d.audit,
        limits: { perMfaToken: { max: 5, windowSeconds: 300 }, perUser: { max: 10, windowSeconds: 1800 } },
      }),
    ),
  ],
});
