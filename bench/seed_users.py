"""Adds N accounts to a Gatehouse SQLite file, copies of one account under
new ids and names (bench-000001, ...), so that scenarios run against a
users table of a realistic size without paying a password hash for each.
They all share the copied account's password hash.

usage: python3 seed_users.py DB_FILE USER_ID COUNT
"""

import sqlite3
import sys
import uuid


def main() -> None:
    db_file, user_id, count = sys.argv[1], uuid.UUID(sys.argv[2]), int(sys.argv[3])
    with sqlite3.connect(db_file, timeout=30) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(users)")]
        template = dict(
            zip(columns, db.execute("SELECT * FROM users WHERE id = ?", (user_id.bytes,)).fetchone())
        )
        rows = []
        for n in range(1, count + 1):
            name = f"bench-{n:06}"
            row = dict(template, id=uuid.uuid4().bytes, username=name, username_key=name)
            row.update(email=f"{name}@example.com", email_key=f"{name}@example.com")
            if "django_id" in row:
                row["django_id"] = None
            rows.append([row[c] for c in columns])
        marks = ", ".join("?" for _ in columns)
        db.executemany(f"INSERT INTO users ({', '.join(columns)}) VALUES ({marks})", rows)


if __name__ == "__main__":
    main()
