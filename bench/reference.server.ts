/**
 * The benchmark's reference: a bare Apollo Server 5 + Express 5 with one trivial
 * resolver, as a process of its own like the gateway. No gateway built on Apollo can be
 * faster, so the gateway's figures are read as ratios of this one's, measured in the same run.
 * Prints `{"port":N}` once listening.
 */
import http from "node:http";
import { ApolloServer } from "@apollo/server";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";

async function main(): Promise<void> {
  const apollo = new ApolloServer({ typeDefs: "type Query { hello: String! }", resolvers: { Query: { hello: () => "world" } } });
  await apollo.start();
  const app = express();
  app.use("/graphql", express.json(), expressMiddleware(apollo));
  const server = http.createServer(app);
  server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}

void main();
