import { randomUUID } from "node:crypto";
import DataLoader from "dataloader";
import type { Contact, NewUser, UserPatch, UserRecord, UserRepo, UserUpdateOptions } from "../../core/ports";
import type { PrismaClient } from "./generated/client";
import { lockLiveSession } from "./live-session";
import type { Sql } from "./sql";
import { isUuid } from "./uuid";
import { isUniqueViolation } from "./prisma-errors";


/** Thrown inside a transaction to roll it back when a conditional update found nothing. */
class Conflict extends Error {}

/** The columns of a contact: its address and its verified flag. */
const columns = (c: Contact) =>
  c.kind === "email"
    ? ({ address: "email", verified: "emailVerified", other: "phone", otherVerified: "phoneVerified" } as const)
    : ({ address: "phone", verified: "phoneVerified", other: "email", otherVerified: "emailVerified" } as const);

/** A UserRecord's columns, for the reads every request makes (hand-written: see sql.ts). */
const USER_COLUMNS = `id::text AS id, email, email_verified AS "emailVerified", phone, phone_verified AS "phoneVerified",
  password_hash AS "passwordHash", totp_enabled AS "totpEnabled", credentials_version AS "credentialsVersion",
  ways_in_version AS "waysInVersion", created_at AS "createdAt"`;

/** A contact's address and verified-flag columns, by their SQL names. */
const sqlColumns = (c: Contact) => (c.kind === "email" ? { address: "email", verified: "email_verified" } : { address: "phone", verified: "phone_verified" });

/**
 * Reads by a unique column that concurrent requests make in the same turn of the event loop,
 * as one query (every `me`, every code asked for an address): on this machine a query's
 * socket write costs more than its rows. Sent once the turn's I/O callbacks ran
 * (setImmediate), so the requests read from the sockets together share it. Never a cache:
 * each read is sent after it was asked for, so it sees every write its caller awaited.
 */
function readsBy(sql: Sql, column: "id" | "email" | "phone"): DataLoader<string, UserRecord | null> {
  const type = column === "id" ? "uuid" : "text";
  return new DataLoader<string, UserRecord | null>(
    async (keys) => {
      const rows =
        keys.length === 1
          ? await sql<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE ${column} = $1::${type}`, keys)
          : await sql<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE ${column} = ANY($1::${type}[])`, [keys]);
      const found = new Map(rows.map((u) => [u[column], u]));
      return keys.map((key) => found.get(column === "id" ? key.toLowerCase() : key) ?? null);
    },
    { cache: false, maxBatchSize: 100, batchScheduleFn: setImmediate },
  );
}

export class PrismaUserRepo implements UserRepo {
  private readonly byId: DataLoader<string, UserRecord | null>;
  private readonly byEmail: DataLoader<string, UserRecord | null>;
  private readonly byPhone: DataLoader<string, UserRecord | null>;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: Sql,
  ) {
    this.byId = readsBy(sql, "id");
    this.byEmail = readsBy(sql, "email");
    this.byPhone = readsBy(sql, "phone");
  }

  findById(id: string): Promise<UserRecord | null> {
    // Ids that are not UUIDs cannot exist, and would make Postgres reject the whole batch.
    return isUuid(id) ? this.byId.load(id) : Promise.resolve(null);
  }

  async findByIds(ids: readonly string[]): Promise<UserRecord[]> {
    const found = await Promise.all(ids.filter(isUuid).map((id) => this.byId.load(id)));
    return found.filter((u): u is UserRecord => u !== null);
  }

  findByEmail(email: string): Promise<UserRecord | null> {
    return this.byEmail.load(email);
  }

  findByPhone(phone: string): Promise<UserRecord | null> {
    return this.byPhone.load(phone);
  }

  async create(user: NewUser): Promise<UserRecord | null> {
    try {
      return await this.prisma.user.create({ data: user });
    } catch (e) {
      if (isUniqueViolation(e)) return null;
      throw e;
    }
  }

  async findOrCreateByContact(contact: Contact): Promise<{ user: UserRecord; created: boolean } | null> {
    const { address, verified } = sqlColumns(contact);
    const now = new Date();
    // The find and a sign-up's create in one round trip. Both parts read one snapshot: the
    // holder is read when the insert met its address, but one committed after the snapshot
    // (a concurrent sign-up the insert waited for) is not seen: null, read again.
    const [row] = await this.sql<UserRecord & { created: boolean }>(
      `WITH created AS (
        INSERT INTO users (id, ${address}, ${verified}, created_at, updated_at)
        VALUES ($1::uuid, $2, true, $3::timestamptz, $3::timestamptz)
        ON CONFLICT (${address}) DO NOTHING
        RETURNING ${USER_COLUMNS}
      )
      SELECT *, true AS created FROM created
      UNION ALL
      SELECT ${USER_COLUMNS}, false AS created FROM users WHERE ${address} = $2 AND NOT EXISTS (SELECT 1 FROM created)`,
      [randomUUID(), contact.address, now],
    );
    if (!row) return null;
    const { created, ...user } = row;
    return { user, created };
  }

  async update(id: string, patch: UserPatch, opts: UserUpdateOptions = {}): Promise<UserRecord | null> {
    const { liveSession } = opts;
    const data = opts.endSignInsInFlight ? { ...patch, credentialsVersion: { increment: 1 } } : patch;
    try {
      if (liveSession === undefined) return await this.prisma.user.update({ where: { id }, data });
      return await this.prisma.$transaction(async (tx) => {
        await lockLiveSession(tx, id, liveSession);
        return tx.user.update({ where: { id }, data });
      });
    } catch (e) {
      if (isUniqueViolation(e)) return null;
      throw e;
    }
  }

  async claimUnproven(id: string, contact: Contact, now: Date): Promise<{ user: UserRecord; revokedSessionIds: string[] } | null> {
    const col = columns(contact);
    try {
      return await this.prisma.$transaction(async (tx) => {
        // The condition is the lock: of two concurrent claims only one sees count 1, and
        // none once anything on the account is proven.
        const { count } = await tx.user.updateMany({
          where: { id, [col.address]: contact.address, emailVerified: false, phoneVerified: false },
          data: {
            [col.verified]: true,
            [col.other]: null,
            [col.otherVerified]: false,
            passwordHash: null,
            totpEnabled: false,
            // A sign-in that checked the creator's password before this commits gets no session.
            credentialsVersion: { increment: 1 },
            // It takes the password and the identities: a removal counted before this counts again.
            waysInVersion: { increment: 1 },
          },
        });
        if (count !== 1) throw new Conflict();
        await tx.totpFactor.deleteMany({ where: { userId: id } });
        await tx.recoveryCode.deleteMany({ where: { userId: id } });
        // An identity its creator linked would let them back in.
        await tx.identity.deleteMany({ where: { userId: id } });
        const live = await tx.session.findMany({ where: { userId: id, revokedAt: null }, select: { id: true } });
        await tx.session.updateMany({ where: { userId: id, revokedAt: null }, data: { revokedAt: now, revokedReason: "unproven_account_claimed" } });
        const user = await tx.user.findUniqueOrThrow({ where: { id } });
        return { user, revokedSessionIds: live.map((s) => s.id) };
      });
    } catch (e) {
      if (e instanceof Conflict) return null;
      throw e;
    }
  }

  async moveUnprovenContact(fromId: string, contact: Contact, toId: string | null, opts: { liveSession?: string } = {}): Promise<UserRecord | null> {
    const col = columns(contact);
    try {
      return await this.prisma.$transaction(async (tx) => {
        if (toId !== null && opts.liveSession !== undefined) await lockLiveSession(tx, toId, opts.liveSession);
        const { count } = await tx.user.updateMany({
          where: { id: fromId, [col.address]: contact.address, [col.verified]: false },
          // An email leaving takes the password's way in with it (it signs in by email).
          data: { [col.address]: null, [col.verified]: false, waysInVersion: { increment: 1 } },
        });
        if (count !== 1) throw new Conflict();
        const proven = { [col.address]: contact.address, [col.verified]: true };
        return toId === null ? tx.user.create({ data: proven }) : tx.user.update({ where: { id: toId }, data: proven });
      });
    } catch (e) {
      // A concurrent prover created the account first (unique address): theirs is it.
      if (e instanceof Conflict || isUniqueViolation(e)) return null;
      throw e;
    }
  }
}
