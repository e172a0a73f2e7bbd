import { flag, int } from "../../config/fields";
import { settingsSection, variable, type SectionValue } from "../../config/section";

/** Magic links (MAGIC_LINK_*): their own limits, with the defaults the codes' limits have. */
export const magicLinkSettings = settingsSection({
  ttlSeconds: variable("MAGIC_LINK_TTL_SECONDS", int(900, 60, 86400)),
  /** A link for an unknown email creates the account when used. */
  signUp: variable("MAGIC_LINK_SIGNUP", flag(true)),
  /** Per email address: a second link within this wait is refused. */
  resendCooldownSeconds: variable("MAGIC_LINK_RESEND_COOLDOWN_SECONDS", int(60, 0, 3600)),
  /** Wrong numbers the waiting device's match code may be given before the request dies. */
  maxMatchAttempts: variable("MAGIC_LINK_MAX_MATCH_ATTEMPTS", int(5, 1, 20)),
  limits: {
    perEmail: { max: variable("MAGIC_LINK_MAX_PER_EMAIL_PER_HOUR", int(5, 1, 1000)), windowSeconds: 3600 },
    perIp: { max: variable("MAGIC_LINK_MAX_REQUESTS_PER_IP_PER_HOUR", int(30, 1, 100000)), windowSeconds: 3600 },
  },
});
export type MagicLinkSettings = SectionValue<typeof magicLinkSettings>;
