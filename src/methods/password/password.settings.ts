import { int } from "../../config/fields";
import { settingsSection, variable, type SectionValue } from "../../config/section";

/** Password sign-in (LOGIN_*). */
export const loginSettings = settingsSection(
  {
    maxFailures: variable("LOGIN_MAX_FAILURES", int(10, 3, 1000)),
    failureWindowSeconds: variable("LOGIN_FAILURE_WINDOW_SECONDS", int(900, 60, 86400)),
    // argon2id runs one hash per core; in a storm from many addresses the rest wait this long at most.
    hashQueueWaitMs: variable("PASSWORD_HASH_QUEUE_WAIT_MS", int(5000, 100, 60000)),
  },
  {
    finish: (login) => ({
      ...login,
      limits: {
        perAccount: { max: login.maxFailures, windowSeconds: login.failureWindowSeconds },
        // An office or a carrier NAT shares one IP: allow several accounts' worth.
        perIp: { max: login.maxFailures * 10, windowSeconds: login.failureWindowSeconds },
        signUpPerIp: { max: 30, windowSeconds: 3600 },
      },
    }),
  },
);
export type LoginSettings = SectionValue<typeof loginSettings>;
