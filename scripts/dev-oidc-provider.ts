import { DEFAULT_OIDC_USERS, startOidcProvider } from "../test/helpers/oidc-provider";

/**
 * A development OpenID provider for trying social sign-in locally (`npm run web:social`):
 * the tests' in-process oidc-provider (its development login and consent pages) on a fixed
 * port, with a client registered for the gateway's callback. Not for anything but a laptop:
 * any password logs in its test accounts.
 */

const port = Number(process.env.OIDC_DEV_PORT ?? 4010);
const publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 4000}`;

async function main(): Promise<void> {
  const idp = await startOidcProvider({
    port,
    redirectUris: [`${publicUrl}/auth/social/dev/callback`],
    clientId: process.env.OIDC_DEV_CLIENT_ID ?? "example-app",
    clientSecret: process.env.OIDC_DEV_CLIENT_SECRET ?? "example-app-dev-secret",
    users: DEFAULT_OIDC_USERS.map((u) => ({ ...u })),
  });
  console.log(`Development OpenID provider at ${idp.issuer} (client ${idp.clientId}, callback ${idp.redirectUris[0]})`);
  for (const user of idp.users) {
    console.log(`  log in as ${user.sub} (any password): ${user.email}, ${user.email_verified ? "verified" : "not verified"}`);
  }
  const stop = () => void idp.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
