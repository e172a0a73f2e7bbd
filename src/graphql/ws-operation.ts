import { getOperationAST, GraphQLError, type ExecutionArgs, type GraphQLSchema } from "graphql";
import type { DocumentCache } from "./document-cache";
import { coerceVariables } from "./variables";

export interface SubscribePayload {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/** The same error with the code Apollo gives it over HTTP (graphql-js sets none). */
const withCode = (e: GraphQLError, code: string) =>
  new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, extensions: { ...e.extensions, code: e.extensions.code ?? code } });

/**
 * What Apollo does for an HTTP request before execution, for a graphql-ws `subscribe`:
 * parse (at most MAX_TOKENS), validate (limits first), pick the operation, coerce the
 * variables without echoing them. Either arguments ready to execute or the client's errors
 * with HTTP's codes. Nothing here throws for bad input: graphql-ws would close the socket.
 */
export function prepareOperation(documents: DocumentCache, schema: GraphQLSchema, payload: SubscribePayload): ExecutionArgs | GraphQLError[] {
  let document;
  try {
    document = documents.parse(payload.query);
  } catch (e) {
    if (e instanceof GraphQLError) return [withCode(e, "GRAPHQL_PARSE_FAILED")];
    throw e;
  }
  const invalid = documents.validate(schema, document);
  if (invalid.length) return invalid.map((e) => withCode(e, "GRAPHQL_VALIDATION_FAILED"));
  const operation = getOperationAST(document, payload.operationName);
  if (!operation) return [new GraphQLError("Unable to identify the operation to run.", { extensions: { code: "OPERATION_RESOLUTION_FAILURE" } })];
  const variables = coerceVariables(schema, operation.variableDefinitions ?? [], payload.variables ?? {});
  if ("errors" in variables) return variables.errors;
  return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
}
