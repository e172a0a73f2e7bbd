import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";

/** The served schema as SDL, sorted so that the committed file diffs cleanly. */
export const printGatewaySchema = (schema: GraphQLSchema): string => printSchema(lexicographicSortSchema(schema)) + "\n";

/** Where `npm run build` writes it (src/schema.ts), at the repository root. */
export const SCHEMA_FILE = "schema.graphql";
