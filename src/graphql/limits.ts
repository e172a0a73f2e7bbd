import { GraphQLError, Kind, type ASTVisitor, type SelectionSetNode, type ValidationContext } from "graphql";

/**
 * Refuses, before execution, a mutation operation with more than `max` root fields
 * (aliases and fragments included): every mutation here is an auth step, and a batch of
 * aliased guesses in one request must not multiply an attacker's attempts.
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
        return n + countRootFields(fragment.selectionSet, new Set([...seen, name]));
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
