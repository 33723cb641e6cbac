-- Generated from ent/schema by TestMigrationsMatchSchema -update; review before committing.
CREATE TABLE "call_batches" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "user_id" uuid NOT NULL,
  "name" character varying NOT NULL,
  "description" text NOT NULL DEFAULT '',
  "status" character varying NOT NULL,
  "agent_id" uuid NULL,
  "workflow_id" uuid NULL,
  "caller_phone_id" uuid NOT NULL,
  "batch_size" bigint NOT NULL,
  "variable_names" jsonb NULL,
  "start_at" timestamptz NULL,
  "window_start" character varying NOT NULL DEFAULT '',
  "window_end" character varying NOT NULL DEFAULT '',
  "window_days" jsonb NULL,
  "retry_max_attempts" bigint NOT NULL DEFAULT 1,
  "retry_on" jsonb NULL,
  "retry_backoff_seconds" bigint NOT NULL DEFAULT 600,
  "pause_reason" text NOT NULL DEFAULT '',
  "started_at" timestamptz NULL,
  "completed_at" timestamptz NULL,
  "updated_at" timestamptz NOT NULL,
  PRIMARY KEY ("id")
);
CREATE INDEX "callbatch_user_id_created_at" ON "call_batches" ("user_id", "created_at");
CREATE TABLE "suppressions" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "user_id" uuid NOT NULL,
  "phone_number" character varying NOT NULL,
  PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "suppression_user_id_phone_number" ON "suppressions" ("user_id", "phone_number");
CREATE TABLE "batch_rows" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "to_number" character varying NOT NULL,
  "variable_values" jsonb NULL,
  "timezone" character varying NOT NULL DEFAULT '',
  "status" character varying NOT NULL,
  "attempts" bigint NOT NULL DEFAULT 0,
  "last_call_session_id" uuid NULL,
  "pending" boolean NOT NULL DEFAULT true,
  "next_attempt_at" timestamptz NULL,
  "error_message" text NOT NULL DEFAULT '',
  "updated_at" timestamptz NOT NULL,
  "batch_id" uuid NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "batch_rows_call_batches_rows" FOREIGN KEY ("batch_id") REFERENCES "call_batches" ("id") ON DELETE NO ACTION
);
CREATE UNIQUE INDEX "batchrow_batch_id_to_number" ON "batch_rows" ("batch_id", "to_number");
CREATE INDEX "batchrow_batch_id_pending_next_attempt_at_created_at" ON "batch_rows" ("batch_id", "pending", "next_attempt_at", "created_at");
CREATE INDEX "batchrow_batch_id_status" ON "batch_rows" ("batch_id", "status");
CREATE TABLE "batch_attempts" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "batch_id" uuid NOT NULL,
  "attempt" bigint NOT NULL,
  "call_session_id" uuid NULL,
  "outcome" character varying NOT NULL DEFAULT '',
  "updated_at" timestamptz NOT NULL,
  "row_id" uuid NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "batch_attempts_batch_rows_attempt_records" FOREIGN KEY ("row_id") REFERENCES "batch_rows" ("id") ON DELETE NO ACTION
);
CREATE UNIQUE INDEX "batchattempt_row_id_attempt" ON "batch_attempts" ("row_id", "attempt");
CREATE UNIQUE INDEX "batchattempt_call_session_id" ON "batch_attempts" ("call_session_id");
