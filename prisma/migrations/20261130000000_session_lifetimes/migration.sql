-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "aal2_at" TIMESTAMPTZ(3),
ADD COLUMN     "first_factor_amr" TEXT[];

-- Backfill. A live aal2 session proved its second factor at sign-in at the latest known
-- time, so its aal2 counts from created_at (a later step-up only makes it lapse sooner).
UPDATE "sessions" SET "aal2_at" = "created_at" WHERE "aal" = 'aal2';

-- amr is built as [first factor..., second factor, 'mfa'] (duplicates dropped), so the
-- first factor is what precedes the element before 'mfa'; [x, 'mfa'] means both were x.
UPDATE "sessions" SET "first_factor_amr" = CASE
    WHEN "aal" = 'aal2' AND array_position("amr", 'mfa') > 2 THEN "amr"[1:array_position("amr", 'mfa') - 2]
    ELSE array_remove("amr", 'mfa')
END;
