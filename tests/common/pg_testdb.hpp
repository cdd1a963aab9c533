#pragma once
// Test helper: fresh, empty PostgreSQL databases on the throwaway server that scripts/test.sh
// starts (scripts/pg_throwaway.sh) and names in FACEPORT_TEST_PG_URL. Tests that need
// PostgreSQL SKIP, saying so, when the variable is not set.
//
// Each call creates a new database (CREATE DATABASE takes ~0.2 s; DROP DATABASE forces a
// checkpoint and takes seconds, so databases are left for the throwaway server's removal:
// never point FACEPORT_TEST_PG_URL at a server you keep).
#include <optional>
#include <string>

namespace fptest {

inline constexpr const char* kPgUrlEnv = "FACEPORT_TEST_PG_URL";
// Why PostgreSQL tests skip when the variable is unset.
inline constexpr const char* kPgSkipReason =
    "PostgreSQL backend not tested: FACEPORT_TEST_PG_URL is not set (scripts/test.sh sets it)";

// The server URL from the environment, or nullopt.
std::optional<std::string> PgServerUrl();
// Creates a new empty database and returns its URL (the server URL with the database name
// replaced). nullopt when the variable is unset; throws std::runtime_error when the server
// refuses.
std::optional<std::string> FreshPgDatabase();

}  // namespace fptest
