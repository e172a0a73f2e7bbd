import { buildSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { defaultFieldResolver, isUnionType, type GraphQLSchema } from "graphql";
import gql from "graphql-tag";
import { createResolversMap } from "type-graphql";
import { AuthError } from "../core/errors";
import type { GatewayContext } from "../graphql/context";

/** Federation 2: the gateway's schema as a subgraph in which User is an entity keyed by id. */
const LINK_HEADER = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])\n`;

export function toSubgraphSchema(schema: GraphQLSchema): GraphQLSchema {
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  return onlyForFederationCallers(buildSubgraphSchema({
    typeDefs: gql(LINK_HEADER + printSchemaWithDirectives(schema)),
    resolvers: {
      ...resolvers,
      User: {
        ...resolvers.User,
        // One query per request however many references (DataLoader); unknown ids: null.
        __resolveReference: (ref: { id?: unknown }, ctx: GatewayContext) => (typeof ref.id === "string" ? ctx.users.load(ref.id) : null),
      },
    } as never,
  }));
}

/**
 * `_service { sdl }` hands out the whole schema and `_entities` looks users up by id: in
 * production only the router may call them (context.federationCaller, its shared secret).
 */
function onlyForFederationCallers(schema: GraphQLSchema): GraphQLSchema {
  const fields = schema.getQueryType()!.getFields();
  const union = schema.getType("_Entity");
  const entityTypes = new Set(isUnionType(union) ? union.getTypes().map((t) => t.name) : []);
  for (const name of ["_service", "_entities"]) {
    const field = fields[name];
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args, ctx: GatewayContext, info) => {
      if (!ctx.federationCaller) throw new AuthError("FORBIDDEN");
      // @apollo/subgraph throws a plain Error for these (masked as ours): they are the caller's.
      if (name === "_entities" && !(args.representations as unknown[]).every((r) => entityTypes.has((r as { __typename?: unknown } | null)?.__typename as string))) {
        throw new AuthError("BAD_USER_INPUT", "Every representation needs the __typename of an entity (User).", { field: "representations" });
      }
      return resolve(source, args, ctx, info);
    };
  }
  return schema;
}
