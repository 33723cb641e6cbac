-- Generated from ent/schema by TestMigrationsMatchSchema -update; review before committing.
CREATE TABLE "agent_webhooks" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "agent_id" uuid NOT NULL,
  "user_id" uuid NOT NULL,
  "trigger_on_phone_call" boolean NOT NULL DEFAULT true,
  "outgoing_enabled" boolean NOT NULL DEFAULT false,
  "outgoing_url" text NOT NULL DEFAULT '',
  "outgoing_headers" jsonb NULL,
  "retry_count" bigint NOT NULL DEFAULT 5,
  "bearer_token" bytea NULL,
  "incoming_enabled" boolean NOT NULL DEFAULT false,
  "attached_variables" jsonb NULL,
  "secret" bytea NOT NULL,
  "disabled_reason" text NOT NULL DEFAULT '',
  "disabled_at" timestamptz NULL,
  "failing_since" timestamptz NULL,
  "last_failure_at" timestamptz NULL,
  "last_delivered_at" timestamptz NULL,
  "failures" bigint NOT NULL DEFAULT 0,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "agent_webhooks_agent_id_key" ON "agent_webhooks" ("agent_id");
CREATE INDEX "agentwebhook_user_id" ON "agent_webhooks" ("user_id");
CREATE TABLE "webhook_deliveries" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "webhook_id" character varying NOT NULL,
  "agent_id" uuid NOT NULL,
  "user_id" uuid NOT NULL,
  "event" character varying NOT NULL,
  "session_id" uuid NULL,
  "dedupe_key" character varying NOT NULL,
  "payload" bytea NOT NULL,
  "status" character varying NOT NULL,
  "next_attempt_at" timestamptz NULL,
  "round" bigint NOT NULL DEFAULT 0,
  "replays" bigint NOT NULL DEFAULT 0,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "webhook_deliveries_webhook_id_key" ON "webhook_deliveries" ("webhook_id");
CREATE UNIQUE INDEX "webhook_deliveries_dedupe_key_key" ON "webhook_deliveries" ("dedupe_key");
CREATE INDEX "webhookdelivery_user_id_created_at_id" ON "webhook_deliveries" ("user_id", "created_at", "id");
CREATE INDEX "webhookdelivery_agent_id_status" ON "webhook_deliveries" ("agent_id", "status");
CREATE TABLE "webhook_attempts" (
  "id" uuid NOT NULL,
  "at" timestamptz NOT NULL,
  "status_code" bigint NOT NULL DEFAULT 0,
  "error" text NOT NULL DEFAULT '',
  "delivery_id" uuid NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "webhook_attempts_webhook_deliveries_attempts" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries" ("id") ON DELETE CASCADE
);
CREATE INDEX "webhookattempt_delivery_id_at" ON "webhook_attempts" ("delivery_id", "at");
