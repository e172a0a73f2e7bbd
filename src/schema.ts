import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import type { GraphQLSchema } from "graphql";
import { DateTimeResolver } from "graphql-scalars";
import { buildSchema, type NonEmptyArray, type PubSub } from "type-graphql";
import { toSubgraphSchema } from "./federation/subgraph";
import { authChecker } from "./graphql/auth";
import { printGatewaySchema, SCHEMA_FILE } from "./graphql/print-schema";
import { registerResolvers } from "./graphql/schema-registry";
import { declareMfaMethods } from "./graphql/types";
import { METHODS, SECOND_FACTORS } from "./methods";
import { AuthTokensResolver, SessionResolver } from "./sessions/session.resolver";
import { UserResolver } from "./users/user.resolver";

/** The schema assembly: the spine's resolvers and every method's, over the graphql/ foundation. */
const RESOLVERS = [UserResolver, SessionResolver, AuthTokensResolver, ...METHODS.flatMap((m) => m.resolvers)] as NonEmptyArray<Function>;

// type-graphql wants a pubSub once a subscription exists, but each of ours brings its own
// `subscribe` (magicLinkStatus listens through its service): a topic would be a mistake.
const NO_TOPICS: PubSub = {
  publish: () => {
    throw new Error("No subscription publishes through type-graphql's pubSub");
  },
  subscribe: () => {
    throw new Error("No subscription listens through type-graphql's pubSub: give it a subscribe function");
  },
};

/**
 * The API schema as the resolvers declare it: what schema.graphql holds. `instances` are
 * the resolver objects by class; printing needs none.
 */
export async function buildGatewaySchema(instances: ReadonlyMap<Function, object> = new Map()): Promise<GraphQLSchema> {
  declareMfaMethods(SECOND_FACTORS.map((f) => f.mfaMethod));
  return buildSchema({
    resolvers: RESOLVERS,
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    // Services validate input themselves, to answer the contract's codes with the field named.
    validate: false,
    pubSub: NO_TOPICS,
    container: {
      get: (cls: Function) => {
        const instance = instances.get(cls);
        if (!instance) throw new Error(`No resolver instance was built for ${cls.name}`);
        return instance;
      },
    },
  });
}

/**
 * What the gateway serves: the API schema as a Federation 2 subgraph (User is an entity),
 * over these resolver instances, registered with it for resolverFor.
 */
export async function buildServedSchema(instances: readonly object[]): Promise<GraphQLSchema> {
  const byClass = new Map<Function, object>(instances.map((i) => [i.constructor, i]));
  const served = toSubgraphSchema(await buildGatewaySchema(byClass));
  registerResolvers(served, byClass);
  return served;
}

// `npm run build` writes the schema to the repo root, where it is committed.
if (require.main === module) {
  buildGatewaySchema().then((schema) => {
    const file = path.resolve(process.cwd(), SCHEMA_FILE);
    fs.writeFileSync(file, printGatewaySchema(schema));
    console.log(`wrote ${file}`);
  });
}
