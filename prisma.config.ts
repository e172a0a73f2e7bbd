import { defineConfig } from "prisma/config";

// `prisma generate` needs no schema engine, but the CLI still looks for one and tries to
// download it where it is missing. Point it at any existing file for that command only;
// migrations are applied by the gateway itself (src/infra/db/migrate.ts).
if (process.argv.includes("generate") && !process.env.PRISMA_SCHEMA_ENGINE_BINARY) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
