import { buildSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import type { GraphQLSchema } from "graphql";
import gql from "graphql-tag";
import { createResolversMap } from "type-graphql";
import type { GatewayContext } from "../graphql/context";

/** Federation 2: the gateway's schema as a subgraph in which User is an entity keyed by id. */
const LINK_HEADER = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])\n`;

export function toSubgraphSchema(schema: GraphQLSchema): GraphQLSchema {
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  return buildSubgraphSchema({
    typeDefs: gql(LINK_HEADER + printSchemaWithDirectives(schema)),
    resolvers: {
      ...resolvers,
      User: {
        ...resolvers.User,
        // One query per request however many references (DataLoader); unknown ids: null.
        __resolveReference: (ref: { id: string }, ctx: GatewayContext) => ctx.users.load(ref.id),
      },
    } as never,
  });
}
