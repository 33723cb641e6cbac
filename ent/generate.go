// Package ent holds the code ent generates from the schemas in ./schema. Only adapters/entstore
// imports it: ent types never cross into application/ or domain/.
package ent

//go:generate go run -mod=mod entgo.io/ent/cmd/ent generate --feature sql/upsert ./schema
