import {
  coerceInputValue,
  getNamedType,
  GraphQLError,
  isInputObjectType,
  isInputType,
  isLeafType,
  isListType,
  isNonNullType,
  print,
  typeFromAST,
  valueFromAST,
  type GraphQLInputType,
  type GraphQLSchema,
  type VariableDefinitionNode,
} from "graphql";

/**
 * graphql-js's variable coercion, stopping at each variable's first error, with messages
 * that name the variable, the path and the expected type but never echo the value: graphql-js writes `got invalid value { password: … }`
 * into the error, and from there into responses, proxies' logs and ours.
 * Run before execution (HTTP plugin, WebSocket onSubscribe), so graphql-js's own pass finds
 * nothing left to refuse. Errors carry BAD_USER_INPUT, as Apollo gives coercion errors.
 */
export function coerceVariables(
  schema: GraphQLSchema,
  definitions: readonly VariableDefinitionNode[],
  inputs: Record<string, unknown> = {},
): { coerced: Record<string, unknown> } | { errors: GraphQLError[] } {
  const errors: GraphQLError[] = [];
  const coerced: Record<string, unknown> = {};
  const refuse = (message: string, node: VariableDefinitionNode) =>
    errors.push(new GraphQLError(message, { nodes: node, extensions: { code: "BAD_USER_INPUT" } }));
  for (const node of definitions) {
    if (errors.length >= 50) break;
    const name = node.variable.name.value;
    const type = typeFromAST(schema, node.type);
    const typeName = print(node.type);
    // Validation already refused variables of output types; nothing to coerce then.
    if (!type || !isInputType(type)) continue;
    if (!Object.prototype.hasOwnProperty.call(inputs, name)) {
      if (node.defaultValue) coerced[name] = valueFromAST(node.defaultValue, type);
      else if (isNonNullType(type)) refuse(`Variable "$${name}" of required type "${typeName}" was not provided.`, node);
      continue;
    }
    const value = inputs[name];
    if (value === null && isNonNullType(type)) {
      refuse(`Variable "$${name}" of non-null type "${typeName}" must not be null.`, node);
      continue;
    }
    try {
      coerced[name] = coerceInputValue(value, type, (path, _invalidValue, error) => {
        const at = path.length ? ` at "${name}${path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")}"` : "";
        const expected = typeAt(type, path);
        // Scalars' and enums' own messages quote the value ("cannot represent …: <value>");
        // the structural ones (missing or unknown field, not an object) do not.
        const reason = expected && isLeafType(getNamedType(expected)) ? `Expected type "${getNamedType(expected).name}".` : error.message;
        refuse(`Variable "$${name}" got invalid value${at}; ${reason}`, node);
        // The first error of a variable is its answer: graphql-js would go on through every
        // item and field (20,000 nulls in a 100 KB body cost ~0.7 s of CPU, before any limit).
        throw FIRST_ERROR;
      });
    } catch (e) {
      if (e !== FIRST_ERROR) throw e;
    }
  }
  return errors.length ? { errors } : { coerced };
}

/** Thrown out of graphql-js's coercion at a variable's first error, to stop it there. */
const FIRST_ERROR = Symbol("first coercion error");

/** The input type found by following `path` (field names, list indexes) from `type`. */
function typeAt(type: GraphQLInputType, path: ReadonlyArray<string | number>): GraphQLInputType | undefined {
  let t: GraphQLInputType | undefined = type;
  for (const step of path) {
    if (t && isNonNullType(t)) t = t.ofType;
    if (!t) return undefined;
    if (typeof step === "number") t = isListType(t) ? t.ofType : t;
    else t = isInputObjectType(t) ? t.getFields()[step]?.type : undefined;
  }
  return t;
}
