-- Generated from ent/schema by TestMigrationsMatchSchema -update, then shortened by hand: ent
-- rebuilt both tables to add two columns, which SQLite's ADD COLUMN does in place.
ALTER TABLE `call_sessions` ADD COLUMN `holds_slot` bool NOT NULL DEFAULT (false);
CREATE INDEX `callsession_user_id_created_at` ON `call_sessions` (`user_id`, `created_at`) WHERE holds_slot;
ALTER TABLE `users` ADD COLUMN `active_calls` integer NOT NULL DEFAULT (0);
-- Written by hand: the sessions still active hold a slot, and each user's count is theirs. Those
-- past the stale window are released at the first refusal of their user, or by the reconciler.
UPDATE `call_sessions` SET `holds_slot` = true WHERE `status` IN ('dialing', 'initiated', 'ringing', 'in_progress');
UPDATE `users` SET `active_calls` = (SELECT COUNT(*) FROM `call_sessions` WHERE `call_sessions`.`user_id` = `users`.`id` AND `holds_slot`);
