-- Generated from ent/schema by TestMigrationsMatchSchema -update; review before committing.
PRAGMA foreign_keys = off;
CREATE TABLE `batch_attempts` (
  `id` uuid NOT NULL,
  `created_at` datetime NOT NULL,
  `batch_id` uuid NOT NULL,
  `attempt` integer NOT NULL,
  `call_session_id` uuid NULL,
  `outcome` text NOT NULL DEFAULT (''),
  `updated_at` datetime NOT NULL,
  `row_id` uuid NOT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `batch_attempts_batch_rows_attempt_records` FOREIGN KEY (`row_id`) REFERENCES `batch_rows` (`id`) ON DELETE NO ACTION
);
CREATE UNIQUE INDEX `batchattempt_row_id_attempt` ON `batch_attempts` (`row_id`, `attempt`);
CREATE UNIQUE INDEX `batchattempt_call_session_id` ON `batch_attempts` (`call_session_id`);
CREATE TABLE `batch_rows` (
  `id` uuid NOT NULL,
  `created_at` datetime NOT NULL,
  `to_number` text NOT NULL,
  `variable_values` json NULL,
  `timezone` text NOT NULL DEFAULT (''),
  `status` text NOT NULL,
  `attempts` integer NOT NULL DEFAULT (0),
  `last_call_session_id` uuid NULL,
  `pending` bool NOT NULL DEFAULT (true),
  `next_attempt_at` datetime NULL,
  `error_message` text NOT NULL DEFAULT (''),
  `updated_at` datetime NOT NULL,
  `batch_id` uuid NOT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `batch_rows_call_batches_rows` FOREIGN KEY (`batch_id`) REFERENCES `call_batches` (`id`) ON DELETE NO ACTION
);
CREATE UNIQUE INDEX `batchrow_batch_id_to_number` ON `batch_rows` (`batch_id`, `to_number`);
CREATE INDEX `batchrow_batch_id_pending_next_attempt_at_created_at` ON `batch_rows` (`batch_id`, `pending`, `next_attempt_at`, `created_at`);
CREATE INDEX `batchrow_batch_id_status` ON `batch_rows` (`batch_id`, `status`);
CREATE TABLE `call_batches` (
  `id` uuid NOT NULL,
  `created_at` datetime NOT NULL,
  `user_id` uuid NOT NULL,
  `name` text NOT NULL,
  `description` text NOT NULL DEFAULT (''),
  `status` text NOT NULL,
  `agent_id` uuid NULL,
  `workflow_id` uuid NULL,
  `caller_phone_id` uuid NOT NULL,
  `batch_size` integer NOT NULL,
  `variable_names` json NULL,
  `start_at` datetime NULL,
  `window_start` text NOT NULL DEFAULT (''),
  `window_end` text NOT NULL DEFAULT (''),
  `window_days` json NULL,
  `retry_max_attempts` integer NOT NULL DEFAULT (1),
  `retry_on` json NULL,
  `retry_backoff_seconds` integer NOT NULL DEFAULT (600),
  `pause_reason` text NOT NULL DEFAULT (''),
  `started_at` datetime NULL,
  `completed_at` datetime NULL,
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`id`)
);
CREATE INDEX `callbatch_user_id_created_at` ON `call_batches` (`user_id`, `created_at`);
CREATE TABLE `suppressions` (
  `id` uuid NOT NULL,
  `created_at` datetime NOT NULL,
  `user_id` uuid NOT NULL,
  `phone_number` text NOT NULL,
  PRIMARY KEY (`id`)
);
CREATE UNIQUE INDEX `suppression_user_id_phone_number` ON `suppressions` (`user_id`, `phone_number`);
PRAGMA foreign_keys = on;
