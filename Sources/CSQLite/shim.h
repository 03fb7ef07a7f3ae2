// SQLite 3 (Debian: libsqlite3-dev, pkg-config name `sqlite3`).
#include <sqlite3.h>

// SQLITE_TRANSIENT / SQLITE_STATIC are function-pointer casts that Swift cannot import.
static inline sqlite3_destructor_type csqlite_transient(void) { return SQLITE_TRANSIENT; }
static inline sqlite3_destructor_type csqlite_static(void) { return SQLITE_STATIC; }
