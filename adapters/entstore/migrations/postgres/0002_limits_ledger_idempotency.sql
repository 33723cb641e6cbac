-- Generated from ent/schema by TestMigrationsMatchSchema -update; review before committing.
ALTER TABLE "call_sessions" ADD COLUMN "rendered_system_prompt" text NULL, ADD COLUMN "rendered_first_message" text NULL, ADD COLUMN "billed_seconds" bigint NULL;
ALTER TABLE "phone_numbers" ADD COLUMN "country_code" character varying NULL, ADD COLUMN "region" character varying NULL, ADD COLUMN "max_cps" double precision NULL;
ALTER TABLE "users" ADD COLUMN "max_concurrent_calls" bigint NOT NULL DEFAULT 20, ADD COLUMN "requests_per_second" double precision NULL, ADD COLUMN "daily_spend_cap" bigint NULL, ADD COLUMN "allowed_countries" jsonb NULL, ADD COLUMN "full_name" character varying NULL;
CREATE TABLE "idempotency_keys" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "key" character varying NOT NULL,
  "request_hash" character varying NOT NULL,
  "session_id" uuid NULL,
  "state" character varying NOT NULL DEFAULT 'pending',
  "response_status" bigint NULL,
  "response_body" bytea NULL,
  "expires_at" timestamptz NOT NULL,
  "user_id" uuid NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "idempotency_keys_users_idempotency_keys" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE NO ACTION
);
CREATE UNIQUE INDEX "idempotencykey_user_id_key" ON "idempotency_keys" ("user_id", "key");
CREATE INDEX "idempotencykey_expires_at" ON "idempotency_keys" ("expires_at");
CREATE TABLE "ledger_entries" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "session_id" uuid NULL,
  "amount" bigint NOT NULL,
  "kind" character varying NOT NULL,
  "note" character varying NULL,
  "user_id" uuid NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "ledger_entries_users_ledger_entries" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE NO ACTION
);
CREATE UNIQUE INDEX "ledger_entries_session_id_key" ON "ledger_entries" ("session_id");
CREATE INDEX "ledgerentry_user_id_created_at" ON "ledger_entries" ("user_id", "created_at");
