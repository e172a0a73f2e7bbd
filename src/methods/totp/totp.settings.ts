import { z } from "zod";
import { displayName } from "../../config/fields";
import { missingInProduction, settingsSection, variable, type SectionValue } from "../../config/section";
import { parseKeyList, SecretBoxError } from "../../core/secret-box";

/** `<id>:<base64 of 32 bytes>` entries, checked as the TOTP method will read them. */
const totpKeys = z
  .string()
  .superRefine((v, ctx) => {
    const [first, ...rest] = v.split(",");
    try {
      parseKeyList(first, rest.join(","));
    } catch (e) {
      if (!(e instanceof SecretBoxError)) throw e;
      ctx.addIssue({ code: "custom", message: `${e.message} Make one with: echo "k1:$(openssl rand -base64 32)"` });
    }
  })
  .optional();

/** Authenticator apps (TOTP_*). */
export const totpSettings = settingsSection(
  {
    /** The issuer authenticator apps show; unset: APP_NAME. */
    issuer: variable("TOTP_ISSUER", displayName.optional()),
    /** `<id>:<base64 32 bytes>` (or bare base64); unset outside production: generated into DATA_DIR. */
    encryptionKey: variable("TOTP_ENCRYPTION_KEY", totpKeys.refine((v) => v === undefined || !v.includes(","), "one key (retired ones go in TOTP_ENCRYPTION_KEY_PREVIOUS)")),
    /** Comma list of retired keys, still used to open secrets sealed before a rotation. */
    previousEncryptionKeys: variable("TOTP_ENCRYPTION_KEY_PREVIOUS", totpKeys),
  },
  {
    given: (env, production) => (production ? missingInProduction(env, { TOTP_ENCRYPTION_KEY: "instead of a generated key for authenticator secrets" }) : []),
    check: ({ encryptionKey, previousEncryptionKeys }) => {
      if (!encryptionKey || !previousEncryptionKeys) return [];
      try {
        parseKeyList(encryptionKey, previousEncryptionKeys);
        return [];
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        return [`TOTP_ENCRYPTION_KEY_PREVIOUS: ${err.message} Give each key its own id.`];
      }
    },
  },
);
export type TotpSettings = SectionValue<typeof totpSettings>;
