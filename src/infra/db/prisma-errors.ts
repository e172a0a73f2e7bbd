import { Prisma } from "./generated/client";

/** A unique constraint refused the write (Prisma P2002): someone else holds the value. */
export const isUniqueViolation = (e: unknown): boolean => e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";
