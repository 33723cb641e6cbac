-- Generated from ent/schema by TestMigrationsMatchSchema -update; review before committing.
PRAGMA foreign_keys = off;
ALTER TABLE `call_sessions` ADD COLUMN `slot` integer NULL;
DROP INDEX `callsession_user_id_status`;
DROP INDEX `callsession_leg_id`;
CREATE INDEX `callsession_created_at` ON `call_sessions` (`created_at`) WHERE ended_at IS NULL;
CREATE INDEX `callsession_user_id_created_at` ON `call_sessions` (`user_id`, `created_at`) WHERE slot IS NOT NULL;
CREATE TABLE `call_slots` (
  `id` uuid NOT NULL,
  `user_id` uuid NOT NULL,
  `shard` integer NOT NULL,
  `held` integer NOT NULL DEFAULT (0),
  PRIMARY KEY (`id`)
);
CREATE UNIQUE INDEX `callslot_user_id_shard` ON `call_slots` (`user_id`, `shard`);
PRAGMA foreign_keys = on;
-- Written by hand: the sessions still active hold a slot, dealt round the user's shards as
-- create_call deals them (the first shards take the remainder of the cap), and each shard's count
-- is theirs. Those past the stale window are released at the first refusal of their user, or by
-- the reconciler.
UPDATE `call_sessions` SET `slot` = b.`shard` FROM (
  SELECT s.`id`, (ROW_NUMBER() OVER (PARTITION BY s.`user_id` ORDER BY s.`created_at`, s.`id`) - 1)
    % MIN(32, MAX(u.`max_concurrent_calls`, 1)) AS `shard`
  FROM `call_sessions` s JOIN `users` u ON u.`id` = s.`user_id`
  WHERE s.`status` IN ('dialing', 'initiated', 'ringing', 'in_progress')
) b WHERE `call_sessions`.`id` = b.`id`;
INSERT INTO `call_slots` (`id`, `user_id`, `shard`, `held`)
SELECT lower(hex(randomblob(16))), `user_id`, `slot`, COUNT(*) FROM `call_sessions` WHERE `slot` IS NOT NULL GROUP BY `user_id`, `slot`;
