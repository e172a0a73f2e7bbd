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
  await assertLive(tx, userId, sessionId);
}

/**
 * lockLiveSession for a removal of a way in: the lock is the update that raises the user's
 * waysInVersion, and only from `waysInVersion`, the value the caller counted the ways in
 * under. False when another removal landed since (a passkey and an identity removed at once
 * would each have counted the other): the caller counts again.
 */
export async function lockForWayRemoval(tx: Prisma.TransactionClient, userId: string, sessionId: string, waysInVersion: number): Promise<boolean> {
  const raised = await tx.$executeRaw`UPDATE users SET ways_in_version = ways_in_version + 1 WHERE id = ${userId}::uuid AND ways_in_version = ${waysInVersion}`;
  if (raised !== 1) return false;
  await assertLive(tx, userId, sessionId);
  return true;
}

async function assertLive(tx: Prisma.TransactionClient, userId: string, sessionId: string): Promise<void> {
  const live = await tx.session.count({ where: { id: sessionId, userId, revokedAt: null } });
  if (live !== 1) throw sessionEnded();
}
