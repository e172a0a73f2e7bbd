export { openDatabase, probePostgres, type Database, type OpenDatabaseOptions } from "./database";
export { applyMigrations, type SqlRunner } from "./migrate";
