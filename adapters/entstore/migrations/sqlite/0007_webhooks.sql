-- Generated from ent/schema by TestMigrationsMatchSchema -update; review before committing.
PRAGMA foreign_keys = off;
CREATE TABLE `agent_webhooks` (
  `id` uuid NOT NULL,
  `created_at` datetime NOT NULL,
  `agent_id` uuid NOT NULL,
  `user_id` uuid NOT NULL,
  `trigger_on_phone_call` bool NOT NULL DEFAULT (true),
  `outgoing_enabled` bool NOT NULL DEFAULT (false),
  `outgoing_url` text NOT NULL DEFAULT (''),
  `outgoing_headers` json NULL,
  `retry_count` integer NOT NULL DEFAULT (5),
  `bearer_token` blob NULL,
  `incoming_enabled` bool NOT NULL DEFAULT (false),
  `attached_variables` json NULL,
  `secret` blob NOT NULL,
  `disabled_reason` text NOT NULL DEFAULT (''),
  `disabled_at` datetime NULL,
  `failing_since` datetime NULL,
  `last_failure_at` datetime NULL,
  `last_delivered_at` datetime NULL,
  `failures` integer NOT NULL DEFAULT (0),
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`id`)
);
CREATE UNIQUE INDEX `agent_webhooks_agent_id_key` ON `agent_webhooks` (`agent_id`);
CREATE INDEX `agentwebhook_user_id` ON `agent_webhooks` (`user_id`);
CREATE TABLE `webhook_attempts` (
  `id` uuid NOT NULL,
  `at` datetime NOT NULL,
  `status_code` integer NOT NULL DEFAULT (0),
  `error` text NOT NULL DEFAULT (''),
  `delivery_id` uuid NOT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `webhook_attempts_webhook_deliveries_attempts` FOREIGN KEY (`delivery_id`) REFERENCES `webhook_deliveries` (`id`) ON DELETE CASCADE
);
CREATE INDEX `webhookattempt_delivery_id_at` ON `webhook_attempts` (`delivery_id`, `at`);
CREATE TABLE `webhook_deliveries` (
  `id` uuid NOT NULL,
  `created_at` datetime NOT NULL,
  `webhook_id` text NOT NULL,
  `agent_id` uuid NOT NULL,
  `user_id` uuid NOT NULL,
  `event` text NOT NULL,
  `session_id` uuid NULL,
  `dedupe_key` text NOT NULL,
  `payload` blob NOT NULL,
  `status` text NOT NULL,
  `next_attempt_at` datetime NULL,
  `round` integer NOT NULL DEFAULT (0),
  `replays` integer NOT NULL DEFAULT (0),
  `updated_at` datetime NOT NULL,
  PRIMARY KEY (`id`)
);
CREATE UNIQUE INDEX `webhook_deliveries_webhook_id_key` ON `webhook_deliveries` (`webhook_id`);
CREATE UNIQUE INDEX `webhook_deliveries_dedupe_key_key` ON `webhook_deliveries` (`dedupe_key`);
CREATE INDEX `webhookdelivery_user_id_created_at_id` ON `webhook_deliveries` (`user_id`, `created_at`, `id`);
CREATE INDEX `webhookdelivery_agent_id_status` ON `webhook_deliveries` (`agent_id`, `status`);
PRAGMA foreign_keys = on;
