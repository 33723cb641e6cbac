-- Generated from ent/schema by TestMigrationsMatchSchema -update; review before committing.
CREATE TABLE "users" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "email" character varying NULL,
  "credits" bigint NOT NULL DEFAULT 0,
  PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "users_email_key" ON "users" ("email");
CREATE TABLE "agents" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "name" character varying NOT NULL,
  "system_prompt" text NOT NULL DEFAULT '',
  "first_message" text NOT NULL DEFAULT '',
  "is_active" boolean NOT NULL DEFAULT true,
  "user_id" uuid NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "agents_users_agents" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE NO ACTION
);
CREATE INDEX "agent_user_id" ON "agents" ("user_id");
CREATE TABLE "api_keys" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "name" character varying NOT NULL DEFAULT '',
  "prefix" character varying NOT NULL,
  "hash" bytea NOT NULL,
  "last_used_at" timestamptz NULL,
  "revoked_at" timestamptz NULL,
  "user_id" uuid NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "api_keys_users_api_keys" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE NO ACTION
);
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys" ("hash");
CREATE INDEX "apikey_user_id" ON "api_keys" ("user_id");
CREATE TABLE "call_sessions" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "request_id" uuid NOT NULL,
  "agent_id" uuid NULL,
  "workflow_id" uuid NULL,
  "phone_number_id" uuid NULL,
  "provider" character varying NOT NULL,
  "from_number" character varying NOT NULL,
  "to_number" character varying NOT NULL,
  "status" character varying NOT NULL,
  "variable_values" jsonb NULL,
  "leg_id" character varying NULL,
  "detail" text NOT NULL DEFAULT '',
  "duration_seconds" bigint NOT NULL DEFAULT 0,
  "cost" bigint NOT NULL DEFAULT 0,
  "answered_at" timestamptz NULL,
  "ended_at" timestamptz NULL,
  "updated_at" timestamptz NOT NULL,
  "version" bigint NOT NULL,
  "user_id" uuid NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "call_sessions_users_call_sessions" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE NO ACTION
);
CREATE UNIQUE INDEX "call_sessions_request_id_key" ON "call_sessions" ("request_id");
CREATE INDEX "callsession_user_id_created_at_id" ON "call_sessions" ("user_id", "created_at", "id");
CREATE INDEX "callsession_user_id_status" ON "call_sessions" ("user_id", "status");
CREATE INDEX "callsession_leg_id" ON "call_sessions" ("leg_id");
CREATE TABLE "phone_numbers" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "number" character varying NOT NULL,
  "provider" character varying NOT NULL,
  "is_active" boolean NOT NULL DEFAULT true,
  "friendly_name" character varying NULL,
  "credentials" bytea NULL,
  "user_id" uuid NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "phone_numbers_users_phone_numbers" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE NO ACTION
);
CREATE UNIQUE INDEX "phonenumber_user_id_number" ON "phone_numbers" ("user_id", "number");
CREATE INDEX "phonenumber_user_id_is_active" ON "phone_numbers" ("user_id", "is_active");
CREATE TABLE "workflows" (
  "id" uuid NOT NULL,
  "created_at" timestamptz NOT NULL,
  "name" character varying NOT NULL,
  "is_active" boolean NOT NULL DEFAULT true,
  "user_id" uuid NOT NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "workflows_users_workflows" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE NO ACTION
);
CREATE INDEX "workflow_user_id" ON "workflows" ("user_id");
CREATE TABLE "phone_mappings" (
  "id" uuid NOT NULL,
  "agent_id" uuid NULL,
  "phone_number_id" uuid NOT NULL,
  "workflow_id" uuid NULL,
  PRIMARY KEY ("id"),
  CONSTRAINT "phone_mappings_agents_mappings" FOREIGN KEY ("agent_id") REFERENCES "agents" ("id") ON DELETE CASCADE,
  CONSTRAINT "phone_mappings_phone_numbers_mapping" FOREIGN KEY ("phone_number_id") REFERENCES "phone_numbers" ("id") ON DELETE CASCADE,
  CONSTRAINT "phone_mappings_workflows_mappings" FOREIGN KEY ("workflow_id") REFERENCES "workflows" ("id") ON DELETE CASCADE,
  CONSTRAINT "phone_mappings_one_target" CHECK (agent_id IS NULL AND workflow_id IS NOT NULL OR agent_id IS NOT NULL AND workflow_id IS NULL)
);
CREATE UNIQUE INDEX "phone_mappings_phone_number_id_key" ON "phone_mappings" ("phone_number_id");
CREATE INDEX "phonemapping_agent_id" ON "phone_mappings" ("agent_id");
CREATE INDEX "phonemapping_workflow_id" ON "phone_mappings" ("workflow_id");
