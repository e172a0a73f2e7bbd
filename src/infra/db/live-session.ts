import { sessionEnded } from "../../core/errors";
import type { Prisma } from "./generated/client";

/**
 * Inside a transaction: locks the user's row, then checks that the session is live, or
 * throws UNAUTHENTICATED. A claim takes the same locks in the same order (the user row,
 * then the sessions), so a change the session asked for lands either before the claim
 * (which then wipes or refuses it) or not at all: never after the claim ended the session.
 */
export async function lockLiveSession(tx: Prisma.TransactionClient, userId: string, sessionId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM users WHERE id = ${userId}::uuid FOR NO KEY UPDATE`;
  const live = await tx.session.count({ where: { id: sessionId, userId, revokedAt: null } });
  if (live !== 1) throw sessionEnded();
}
