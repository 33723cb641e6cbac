-- Generated from ent/schema by TestMigrationsMatchSchema -update, then written as plain ADD COLUMNs:
-- the generated table copy would drop any column another migration adds to call_sessions.
ALTER TABLE `call_sessions` ADD COLUMN `ring_timeout_seconds` integer NULL;
ALTER TABLE `call_sessions` ADD COLUMN `max_duration_seconds` integer NULL;
ALTER TABLE `call_sessions` ADD COLUMN `machine_detection` text NOT NULL DEFAULT ('off');
ALTER TABLE `call_sessions` ADD COLUMN `answered_by` text NULL;
