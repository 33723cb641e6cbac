-- Generated from ent/schema by TestMigrationsMatchSchema -update; review before committing.
ALTER TABLE "call_sessions" ADD COLUMN "ring_timeout_seconds" bigint NULL, ADD COLUMN "max_duration_seconds" bigint NULL, ADD COLUMN "machine_detection" character varying NOT NULL DEFAULT 'off', ADD COLUMN "answered_by" character varying NULL;
