import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { buildGatewaySchema } from "./schema";

/** The served schema as SDL, sorted so that the committed file diffs cleanly. */
export const printGatewaySchema = (schema: GraphQLSchema): string => printSchema(lexicographicSortSchema(schema)) + "\n";

export const SCHEMA_FILE = "schema.graphql";

// `npm run build` writes the schema to the repo root, where it is committed.
if (require.main === module) {
  buildGatewaySchema().then((schema) => {
    const file = path.resolve(process.cwd(), SCHEMA_FILE);
    fs.writeFileSync(file, printGatewaySchema(schema));
    console.log(`wrote ${file}`);
  });
}
