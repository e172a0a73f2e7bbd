import { parseKeyList, SecretBox } from "../../core/secret-box";
import { defineMethod } from "../deps";
import { TotpResolver } from "./totp.resolver";
import { TotpService } from "./totp.service";
import { totpSettings } from "./totp.settings";

export const totpMethod = defineMethod({
  id: "totp",
  settings: { totp: totpSettings },
  resolvers: [TotpResolver],
  signIns: { verifyTotp: "totp" },
  // An authenticator app turned on makes every sign-in ask for a second factor.
  secondFactors: [{ mfaMethod: "TOTP", authenticator: "totp", requiredBy: (u) => u.totpEnabled, offeredTo: (u) => u.totpEnabled }],
  create: (d, { totp: { encryptionKey, previousEncryptionKeys, issuer } }) => {
    if (!encryptionKey) throw new Error("TOTP_ENCRYPTION_KEY is not set (main.ts generates one outside production)");
    const service = new TotpService({
      users: d.repositories.users,
      factors: d.repositories.totpFactors,
      recoveryCodes: d.recoveryCodes,
      sessions: d.sessions,
      box: new SecretBox(parseKeyList(encryptionKey, previousEncryptionKeys)),
      store: d.store,
      limiter: d.limiter,
      audit: d.audit,
      clock: d.clock,
      delivery: d.delivery,
      appName: d.settings.appName,
      issuer: issuer ?? d.settings.appName,
      limits: {
        perMfaToken: { max: 5, windowSeconds: 300 },
        perUser: { max: 10, windowSeconds: 1800 },
      },
    });
    return [new TotpResolver(service, d.repositories.users)];
  },
});
