import type { GraphQLSchema } from "graphql";

// Several gateways may live in one process (tests, rotation): each schema has its own objects.
const instancesBySchema = new WeakMap<GraphQLSchema, Map<Function, object>>();

/**
 * The resolver object built for this schema. For `@Subscription({ subscribe })`, whose
 * function type-graphql calls without the resolver instance: `info.schema` leads back to it.
 */
export function resolverFor<T extends object>(schema: GraphQLSchema, cls: new (...args: never[]) => T): T {
  const instance = instancesBySchema.get(schema)?.get(cls);
  if (!instance) throw new Error(`No ${cls.name} was built for this schema`);
  return instance as T;
}

/** Called once, by the schema assembly, for the schema it serves. */
export function registerResolvers(schema: GraphQLSchema, byClass: Map<Function, object>): void {
  instancesBySchema.set(schema, byClass);
}
