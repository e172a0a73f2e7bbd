import type { GraphQLSchema } from "graphql";
import { DateTimeResolver } from "graphql-scalars";
import { buildSchema, type NonEmptyArray } from "type-graphql";
import { METHODS, SECOND_FACTORS } from "../methods";
import { declareMfaMethods } from "./types";
import { AuthTokensResolver, SessionResolver } from "../sessions/session.resolver";
import { UserResolver } from "../users/user.resolver";
import type { EventBus } from "../core/ports";
import { authChecker } from "./auth";
import { registerResolvers } from "./schema-registry";

const SPINE_RESOLVERS = [UserResolver, SessionResolver, AuthTokensResolver];

/**
 * The gateway's schema: the spine's resolvers plus every method's. `instances` are the
 * resolver objects built by the composition root; printing the schema needs none.
 */
export async function buildGatewaySchema(instances: object[] = [], bus?: EventBus): Promise<GraphQLSchema> {
  declareMfaMethods(SECOND_FACTORS.map((f) => f.mfaMethod));
  const byClass = new Map<Function, object>(instances.map((i) => [i.constructor, i]));
  const schema = await buildSchema({
    resolvers: [...SPINE_RESOLVERS, ...METHODS.flatMap((m) => m.resolvers)] as NonEmptyArray<Function>,
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    // Services validate input themselves, to answer the contract's codes with the field named.
    validate: false,
    // Printing the schema needs no bus; serving subscriptions does.
    pubSub: {
      publish: (topic: string, payload: object) => void requireBus(bus).publish(topic, payload),
      subscribe: (topic: string) => requireBus(bus).subscribe(topic),
    },
    container: {
      get: (cls: Function) => {
        const instance = byClass.get(cls);
        if (!instance) throw new Error(`No resolver instance was built for ${cls.name}`);
        return instance;
      },
    },
  });
  registerResolvers(schema, byClass);
  return schema;
}

function requireBus(bus: EventBus | undefined): EventBus {
  if (!bus) throw new Error("This schema was built without an event bus");
  return bus;
}
