import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import { composeServices } from "@apollo/composition";
import { printSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";
import { typeDefs as ordersTypeDefs } from "../examples/federation/orders-subgraph";
import { toSubgraphSchema } from "../src/federation/subgraph";
import { buildGatewaySchema } from "../src/schema";

/**
 * The example supergraph (auth gateway + orders) composed with the repository's own
 * @apollo/composition, the one the tests compose with: no rover, no running servers.
 * Routing URLs are examples/federation/supergraph.yaml's.
 */
export async function composeExampleSupergraph(): Promise<string> {
  const auth = printSubgraphSchema(toSubgraphSchema(await buildGatewaySchema()));
  const result = composeServices([
    { name: "auth", url: "http://localhost:4000/graphql", typeDefs: parse(auth) },
    { name: "orders", url: "http://localhost:4001/graphql", typeDefs: ordersTypeDefs },
  ]);
  if (result.errors) throw new Error(`composition failed:\n${result.errors.map((e) => `- ${e.message}`).join("\n")}`);
  return result.supergraphSdl;
}

// `npm run federation:compose [file]` writes it (default examples/federation/supergraph.graphql).
if (require.main === module) {
  const file = path.resolve(process.argv[2] ?? "examples/federation/supergraph.graphql");
  composeExampleSupergraph().then(
    (sdl) => {
      fs.writeFileSync(file, sdl);
      console.log(`wrote ${file}`);
    },
    (error: Error) => {
      console.error(error.message);
      process.exitCode = 1;
    },
  );
}
