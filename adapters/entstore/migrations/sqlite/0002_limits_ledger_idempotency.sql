-- Generated from ent/schema by TestMigrationsMatchSchema -update; review before committing.
PRAGMA foreign_keys = off;
PRAGMA foreign_keys = off;
ALTER TABLE `call_sessions` ADD COLUMN `rendered_system_prompt` text NULL;
ALTER TABLE `call_sessions` ADD COLUMN `rendered_first_message` text NULL;
ALTER TABLE `call_sessions` ADD COLUMN `billed_seconds` integer NULL;
ALTER TABLE `phone_numbers` ADD COLUMN `country_code` text NULL;
ALTER TABLE `phone_numbers` ADD COLUMN `region` text NULL;
ALTER TABLE `phone_numbers` ADD COLUMN `max_cps` real NULL;
CREATE TABLE `new_users` (
  `id` uuid NOT NULL,
  `created_at` datetime NOT NULL,
  `email` text NULL,
  `credits` integer NOT NULL DEFAULT (0),
  `max_concurrent_calls` integer NOT NULL DEFAULT (20),
  `requests_per_second` real NULL,
  `daily_spend_cap` integer NULL,
  `allowed_countries` json NULL,
  `full_name` text NULL,
  PRIMARY KEY (`id`)
);
INSERT INTO `new_users` (`id`, `created_at`, `email`, `credits`) SELECT `id`, `created_at`, `email`, `credits` FROM `users`;
DROP TABLE `users`;
ALTER TABLE `new_users` RENAME TO `users`;
CREATE UNIQUE INDEX `users_email_key` ON `users` (`email`);
CREATE TABLE `idempotency_keys` (
  `id` uuid NOT NULL,
  `created_at` datetime NOT NULL,
  `key` text NOT NULL,
  `request_hash` text NOT NULL,
  `session_id` uuid NULL,
  `state` text NOT NULL DEFAULT ('pending'),
  `response_status` integer NULL,
  `response_body` blob NULL,
  `expires_at` datetime NOT NULL,
  `user_id` uuid NOT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `idempotency_keys_users_idempotency_keys` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION
);
CREATE UNIQUE INDEX `idempotencykey_user_id_key` ON `idempotency_keys` (`user_id`, `key`);
CREATE INDEX `idempotencykey_expires_at` ON `idempotency_keys` (`expires_at`);
CREATE TABLE `ledger_entries` (
  `id` uuid NOT NULL,
  `created_at` datetime NOT NULL,
  `session_id` uuid NULL,
  `amount` integer NOT NULL,
  `kind` text NOT NULL,
  `note` text NULL,
  `user_id` uuid NOT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `ledger_entries_users_ledger_entries` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE NO ACTION
);
CREATE UNIQUE INDEX `ledger_entries_session_id_key` ON `ledger_entries` (`session_id`);
CREATE INDEX `ledgerentry_user_id_created_at` ON `ledger_entries` (`user_id`, `created_at`);
PRAGMA foreign_keys = on;
PRAGMA foreign_keys = on;
