-- AlterTable
ALTER TABLE "users" ADD COLUMN     "ways_in_version" INTEGER NOT NULL DEFAULT 0;

