import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import { GraphQLError, Kind, validate, type ASTVisitor, type DocumentNode, type SelectionSetNode, type ValidationContext, type ValidationRule } from "graphql";

/** What one operation may hold, the same over HTTP and WebSocket (README, "Settings"). */
export interface OperationLimits {
  /** Lexical tokens per document: caps what parsing and graphql-js's own rules can cost. */
  maxTokens: number;
  /** Nested selections (fragments add none; introspection's `__schema` is not counted). */
  maxDepth: number;
  /** Aliased fields, fragments expanded: each alias of a field is one more execution of it. */
  maxAliases: number;
  maxDirectives: number;
  maxAuthMutations: number;
}

/** How a refused limit reads to a client: graphql-js's code for an invalid operation. */
const refuse = (context: ValidationContext | null, error: GraphQLError) =>
  context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ""), { extensions: { code: "GRAPHQL_VALIDATION_FAILED" } }));

/**
 * One validation rule holding the limits that bound an operation's cost (graphql-armor's
 * depth, alias and directive rules, which count each fragment once, and the auth-mutation
 * limit). Token counting is not a rule: parsing stops at `maxTokens` (graphql-js option).
 *
 * Apollo runs its `validationRules` in one pass together with, and after, graphql-js's own,
 * some of which cost far more on a hostile document (OverlappingFieldsCanBeMerged is
 * quadratic in same-named fields). So the limits are checked on the whole document when
 * the pass enters it, before any other node is visited; a document over a limit is then
 * swapped, for the rest of the pass, for an empty one (a graphql-js visitor that returns a
 * node replaces the visited one), and only the limit's error is reported.
 */
export function operationLimitRules(limits: OperationLimits): ValidationRule[] {
  const onReject = [refuse];
  const rules = [
    maxDepthRule({ n: limits.maxDepth, flattenFragments: true, ignoreIntrospection: true, propagateOnRejection: false, onReject }) as unknown as ValidationRule,
    maxAliasesRule({ n: limits.maxAliases, propagateOnRejection: false, onReject }) as unknown as ValidationRule,
    maxDirectivesRule({ n: limits.maxDirectives, propagateOnRejection: false, onReject }) as unknown as ValidationRule,
    maxAuthMutations(limits.maxAuthMutations),
  ];
  return [limitsFirst(rules)];
}

const EMPTY_DOCUMENT: DocumentNode = { kind: Kind.DOCUMENT, definitions: [] };

function limitsFirst(rules: readonly ValidationRule[]): ValidationRule {
  return (context) => ({
    Document(document) {
      const refused = validate(context.getSchema(), document, rules);
      if (!refused.length) return undefined;
      for (const error of refused) context.reportError(error);
      return EMPTY_DOCUMENT;
    },
  });
}

/**
 * Refuses, before execution, a mutation operation with more than `max` root fields
 * (aliases and fragments included): every mutation here is an auth step, and a batch of
 * aliased guesses in one request must not multiply an attacker's attempts.
 * Each fragment is counted once, as execution runs it once (graphql-js `collectFields`):
 * walking every spread again made `...F ...F` nested 22 deep cost seconds.
 */
export function maxAuthMutations(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    const countRootFields = (set: SelectionSetNode, seen: Set<string>): number =>
      set.selections.reduce((n, s) => {
        if (s.kind === Kind.FIELD) return n + (s.name.value.startsWith("__") ? 0 : 1);
        if (s.kind === Kind.INLINE_FRAGMENT) return n + countRootFields(s.selectionSet, seen);
        const name = s.name.value;
        const fragment = context.getFragment(name);
        if (!fragment || seen.has(name)) return n;
        seen.add(name);
        return n + countRootFields(fragment.selectionSet, seen);
      }, 0);
    return {
      OperationDefinition(node) {
        if (node.operation !== "mutation") return;
        const count = countRootFields(node.selectionSet, new Set());
        if (count > max) {
          context.reportError(
            new GraphQLError(`An operation may hold at most ${max} authentication mutations; this one holds ${count}.`, {
              nodes: [node],
              extensions: { code: "BAD_USER_INPUT" },
            }),
          );
        }
      },
    };
  };
}
