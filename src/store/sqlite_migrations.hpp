#pragma once
// INTERNAL to fp_store: the SQLite schema as an ordered list of numbered migrations, and the
// routine that brings a database up to date.
//
// Rules for editing sqlite_migrations.cpp:
//  - never change or reorder a migration that has shipped; append a new one instead;
//  - migration N is kSqliteMigrations[N - 1] and is recorded as version N in
//    schema_migrations(version INTEGER PRIMARY KEY, applied_at INTEGER /* unix ms */).
#include <span>
#include <string_view>

#include "core/result.hpp"

namespace store::sqlite {

class Connection;

// All migrations, oldest first. Each entry may hold several ';'-separated statements.
std::span<const std::string_view> SqliteMigrations();

// Applies, in one IMMEDIATE transaction, every migration whose version is not yet recorded,
// recording each. Fails (Errc::Internal, nothing applied) if a migration fails or if the
// database records a version newer than this binary knows (a downgrade).
core::Status ApplyMigrations(Connection& conn);

}  // namespace store::sqlite
