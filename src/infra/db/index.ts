export { openDatabase, DEFAULT_PGLITE_DIR, type Database, type OpenDatabaseOptions } from "./database";
export { applyMigrations, type MigrationLog, type SqlRunner } from "./migrate";
// Repositories type against these; only this folder imports the generated client directly.
export type { PrismaClient, User, Session, RefreshToken, AuthEvent } from "./generated/client";
export { Prisma } from "./generated/client";
