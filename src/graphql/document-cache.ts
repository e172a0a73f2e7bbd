import { parse, specifiedRules, validate, type DocumentNode, type GraphQLError, type GraphQLSchema, type Source, type ValidationRule } from "graphql";

export interface DocumentCache {
  /** Throws graphql-js's syntax error, also past `maxTokens`. */
  parse(source: string | Source): DocumentNode;
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
}

export interface DocumentCacheOptions {
  /** Run after graphql-js's own rules (the same limits as over HTTP). */
  extraRules?: readonly ValidationRule[];
  /** Parsing stops past this many tokens (graphql-js `maxTokens`). */
  maxTokens?: number;
  maxEntries?: number;
  maxSourceLength?: number;
}

/**
 * Parsed and validated documents shared by every operation with the same text. graphql-ws
 * parses each `subscribe` message anew, so thousands of devices waiting on the same
 * magic-link subscription would each hold their own copy of one small AST (most of a
 * waiting subscription's memory). Apollo Server does the same for HTTP in its document store.
 * Bounded: at most `maxEntries` texts of at most `maxSourceLength` characters, least recently
 * used first out; longer texts are parsed each time and never kept.
 */
export function documentCache(options: DocumentCacheOptions = {}): DocumentCache {
  const { extraRules = [], maxTokens, maxEntries = 200, maxSourceLength = 4096 } = options;
  const rules = [...specifiedRules, ...extraRules];
  const parseOptions = maxTokens === undefined ? undefined : { maxTokens };
  const documents = new Map<string, DocumentNode>();
  const validated = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly GraphQLError[]>>();
  return {
    parse(source) {
      if (typeof source !== "string" || source.length > maxSourceLength) return parse(source, parseOptions);
      const cached = documents.get(source);
      if (cached) {
        // A Map keeps insertion order: re-inserting marks it most recently used.
        documents.delete(source);
        documents.set(source, cached);
        return cached;
      }
      const document = parse(source, parseOptions);
      documents.set(source, document);
      if (documents.size > maxEntries) documents.delete(documents.keys().next().value!);
      return document;
    },
    validate(schema, document) {
      let bySchema = validated.get(schema);
      if (!bySchema) validated.set(schema, (bySchema = new WeakMap()));
      let errors = bySchema.get(document);
      if (!errors) bySchema.set(document, (errors = validate(schema, document, rules)));
      return errors;
    },
  };
}
