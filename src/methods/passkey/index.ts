import { numberedWays } from "../../core/auth-method";
import { defineMethod } from "../deps";
import { PasskeyChallengeStore } from "./passkey-challenge.store";
import { PasskeyResolver } from "./passkey.resolver";
import { PasskeyService } from "./passkey.service";
import { passkeySettings, relyingParty, relyingPartyProblems } from "./passkey.settings";

export const passkeyMethod = defineMethod({
  id: "passkey",
  settings: { passkey: passkeySettings },
  resolvers: [PasskeyResolver],
  signIns: { verifyPasskey: "passkey" },
  // Offered beside the others once MFA is required (TOTP on); a passkey alone does not
  // require MFA: it is multi-factor itself, and a password sign-in on a new device without
  // the passkey must still be able to finish.
  secondFactors: [
    { mfaMethod: "PASSKEY", authenticator: "passkey", offeredTo: async (u, r) => (await r.passkeys.countByUser(u.id)) > 0, enabledBy: (s) => s.passkey.enabled },
  ],
  // Each passkey is a way in of its own; counted, not read (its row holds the public key).
  waysIn: async (u, r, { passkey }) => (passkey.enabled ? numberedWays("passkey", await r.passkeys.countByUser(u.id)) : []),
  create: (d, { passkey }) => {
    const rp = relyingParty(passkey, d.settings);
    const problems = relyingPartyProblems(rp);
    if (passkey.enabled && problems.length) throw new Error(problems.join("; "));
    const service = new PasskeyService({
      users: d.repositories.users,
      passkeys: d.repositories.passkeys,
      challenges: new PasskeyChallengeStore(d.store, passkey.timeoutSeconds),
      sessions: d.sessions,
      limiter: d.limiter,
      audit: d.audit,
      clock: d.clock,
      delivery: d.delivery,
      waysIn: d.waysIn,
      appName: d.settings.appName,
      enabled: passkey.enabled,
      rp,
      timeoutSeconds: passkey.timeoutSeconds,
      attestation: passkey.attestation,
      limits: {
        optionsPerIp: { max: 60, windowSeconds: 60 },
        verifyPerIp: { max: 30, windowSeconds: 60 },
        verifyPerUser: { max: 10, windowSeconds: 300 },
      },
    });
    return [new PasskeyResolver(service, d.repositories.users)];
  },
});
