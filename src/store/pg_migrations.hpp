#pragma once
// INTERNAL to fp_store: the PostgreSQL schema as an ordered list of numbered migrations (the
// same numbering and meaning as sqlite_migrations.cpp: migration N of one backend holds the
// same tables as migration N of the other), and the routine that brings a database up to date.
//
// Rules for editing pg_migrations.cpp: never change or reorder a migration that has shipped;
// append a new one instead, and add the SQLite migration with the same number.
#include "core/result.hpp"

namespace store::pg {

class Connection;

// Applies, in one transaction, every migration whose version is not yet recorded in
// schema_migrations, recording each. Nodes starting at once serialise on a transaction-level
// advisory lock, so exactly one of them applies a migration and the others see it applied.
// Fails (Errc::Internal, nothing applied) if a migration fails or if the database records a
// version newer than this binary knows (a downgrade).
core::Status ApplyMigrations(Connection& conn);

}  // namespace store::pg
