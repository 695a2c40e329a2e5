#!/usr/bin/env python3
"""Counts the pages a refresh-token rotation writes to SQLite's WAL, by b-tree.

SQLite's cost for the refresh path is mostly the pages each commit appends to the WAL, so a
schema's cost can be counted instead of timed: this runs the server's rotation SQL (and the
audit event's, in each way the log could be written) in batches of eight over the bench's
128 sessions, with automatic checkpoints off, and attributes every WAL frame to its table or
index through `dbstat`. Deterministic up to the random digests; no server, no timing.

    python3 bench/sqlite-pages.py [--rotations 4000] [--sessions 128]

Ways of writing the event ("variants"):
  none      the rotation alone (as before the audit log, with today's refresh tokens)
  current   the event inserted with the rotation, linked by the sequencer every 20 batches
            (160 rotations: what the server's 50 ms gathering sees at about 3,000 a second)
  linked    the event linked as it is inserted (the chain's head read and moved in the batch)
  current, no index by subject
            as current, without `audit_events_subject`
The SQL mirrors domain/src/store/sqlite.rs and domain/src/store/sql/sessions.rs; keep them
in step when either changes. (Until migration 0020, refresh tokens were keyed by digest with
indexes by parent and by session; the README keeps that schema's counts.)
"""

import argparse
import collections
import glob
import hashlib
import os
import shutil
import sqlite3
import struct
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
MIGRATIONS = sorted(glob.glob(os.path.join(HERE, "..", "migrations", "sqlite", "*.sql")))

ROTATE = (
    "INSERT INTO refresh_tokens (session_id, generation, app_id, digest, created_at) "
    "SELECT p.session_id, p.generation + 1, p.app_id, $3, $4 "
    "FROM refresh_tokens p JOIN sessions s ON s.id = p.session_id "
    "WHERE p.app_id = $1 AND p.session_id = $5 AND p.generation = $6 AND p.digest = $2 "
    "AND s.revoked_at IS NULL AND s.expires_at > $4 ON CONFLICT DO NOTHING RETURNING session_id"
)
COLUMNS = (
    "id, app_id, at, type, outcome, actor_kind, actor_id, subject_kind, subject_id, session_id, "
    "ip, user_agent, request_id, details, mac"
)
ROTATION_EVENTS = (
    "INSERT INTO audit_events (" + COLUMNS + ") SELECT v.column1, s.app_id, v.column2, v.column3, "
    "'success', v.column4, s.user_id, v.column4, s.user_id, s.id, v.column5, v.column6, v.column7, "
    "'{}', v.column8 FROM (VALUES {values}) AS v JOIN sessions s ON s.id = v.column9"
)
BATCH = 8
NOW = 1_800_000_000_000


def digest():
    return hashlib.sha256(os.urandom(16)).hexdigest()


def connect(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA wal_autocheckpoint=0")
    return db


def seed(path, sessions):
    """An app with `sessions` users, a session and a refresh token each."""
    db = connect(path)
    for migration in MIGRATIONS:
        with open(migration) as f:
            db.executescript(f.read())
    app, role = uuid.uuid4().bytes, uuid.uuid4().bytes
    db.execute("BEGIN")
    db.execute(
        "INSERT INTO apps (id, slug, display_name, status, metadata, config, created_at, updated_at) "
        "VALUES (?, 'bench', 'Bench', 'active', '{}', '{}', ?, ?)",
        (app, NOW, NOW),
    )
    db.execute(
        "INSERT INTO roles (id, app_id, name, description, is_system, permissions, created_at) "
        "VALUES (?, ?, 'member', '', 1, '[]', ?)",
        (role, app, NOW),
    )
    tokens = {}
    for i in range(sessions):
        user, session = uuid.uuid4().bytes, uuid.uuid4().bytes
        db.execute(
            "INSERT INTO users (id, app_id, username, username_normalized, display_name, role_id, status, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, 'x', ?, 'active', ?, ?)",
            (user, app, f"u{i}", f"u{i}", role, NOW, NOW),
        )
        db.execute(
            "INSERT INTO sessions (id, app_id, user_id, created_at, last_used_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (session, app, user, NOW, NOW, NOW + 10**10),
        )
        tokens[session] = (0, digest())
        db.execute(
            "INSERT INTO refresh_tokens (session_id, generation, app_id, digest, created_at) VALUES (?, 0, ?, ?, ?)",
            (session, app, tokens[session][1], NOW),
        )
    db.execute("COMMIT")
    db.close()
    return app, tokens


def event(app, at, session, user):
    """An event's columns as a writer fills them in (the MAC a random stand-in)."""
    return (uuid.uuid4().bytes, app, at, "end_user.token_refreshed", "success", "end_user", user,
            "end_user", user, session, "127.0.0.1", "wrk/4.2.0", str(uuid.uuid4()), "{}", digest())


def link(db, app, events):
    """Moves the app's head over `events` (content tuples): their (position, prev, hash)."""
    head = db.execute("SELECT position, hash FROM audit_heads WHERE app_id = ?", (app,)).fetchone()
    position, prev = head if head else (0, "genesis")
    start, links = position, []
    for e in events:
        position += 1
        h = hashlib.sha256((prev + str(position) + repr(e)).encode()).hexdigest()
        links.append((position, prev, h))
        prev = h
    if head:
        db.execute(
            "UPDATE audit_heads SET position = ?, hash = ?, mac = ? WHERE app_id = ? AND position = ?",
            (position, prev, digest(), app, start),
        )
    else:
        db.execute("INSERT INTO audit_heads (app_id, position, hash, mac) VALUES (?, ?, ?, ?)",
                   (app, position, prev, digest()))
    return links


def sequence(db, app):
    """The sequencer's pass: link every pending event of the app, 500 a transaction."""
    while True:
        db.execute("BEGIN")
        pending = db.execute(
            "SELECT seq, " + COLUMNS + " FROM audit_events WHERE position IS NULL AND app_id = ? "
            "ORDER BY seq LIMIT 500", (app,)).fetchall()
        if not pending:
            db.execute("COMMIT")
            return
        links = link(db, app, pending)
        values = ",".join(["(?, ?, ?, ?)"] * len(pending))
        params = [x for e, l in zip(pending, links) for x in (e[0],) + l]
        db.execute(
            "UPDATE audit_events SET position = v.column2, prev_hash = v.column3, hash = v.column4 "
            "FROM (VALUES " + values + ") AS v WHERE audit_events.seq = v.column1 AND audit_events.position IS NULL",
            params)
        db.execute("COMMIT")
        if len(pending) < 500:
            return


def rotate(db, app, tokens, variant, rotations):
    sessions = list(tokens)
    batches = 0
    for b in range(rotations // BATCH):
        at = NOW + b
        db.execute("BEGIN")
        rotated = []
        for k in range(BATCH):
            session = sessions[(b * BATCH + k * 37) % len(sessions)]
            generation, presented = tokens[session]
            successor = digest()
            bound = {"1": app, "2": presented, "3": successor, "4": at, "5": session, "6": generation}
            if db.execute(ROTATE, bound).fetchall():
                tokens[session] = (generation + 1, successor)
                rotated.append(session)
        if variant == "current" and rotated:
            params = []
            for session in rotated:
                params += [uuid.uuid4().bytes, at, "end_user.token_refreshed", "end_user", "127.0.0.1",
                           "wrk/4.2.0", str(uuid.uuid4()), digest(), session]
            values = ",".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(rotated))
            db.execute(ROTATION_EVENTS.replace("{values}", values), params)
        if variant == "linked" and rotated:
            marks = ",".join("?" * len(rotated))
            users = dict(db.execute(f"SELECT id, user_id FROM sessions WHERE id IN ({marks})", rotated).fetchall())
            events = [event(app, at, s, users[s]) for s in rotated]
            rows = [e + l for e, l in zip(events, link(db, app, events))]
            values = ",".join(["(" + ",".join("?" * 18) + ")"] * len(rows))
            db.execute("INSERT INTO audit_events (" + COLUMNS + ", position, prev_hash, hash) VALUES " + values,
                       [x for r in rows for x in r])
        db.execute("COMMIT")
        batches += 1
        if variant == "current" and batches % 20 == 0:
            sequence(db, app)
    if variant == "current":
        sequence(db, app)


def frames(path):
    """WAL frames by page number."""
    with open(path + "-wal", "rb") as f:
        data = f.read()
    pages, offset = collections.Counter(), 32
    while offset + 24 <= len(data):
        pages[struct.unpack(">I", data[offset:offset + 4])[0]] += 1
        offset += 24 + 4096
    return pages


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rotations", type=int, default=4000)
    parser.add_argument("--sessions", type=int, default=128)
    parser.add_argument("--history", type=int, default=20000, help="linked events written before counting")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="rampart-pages-")
    base = os.path.join(scratch, "base.db")
    app, tokens = seed(base, args.sessions)
    db = connect(base)
    rotate(db, app, tokens, "linked", args.history)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    variants = [("none", "none", []), ("current", "current", []), ("linked", "linked", []),
                ("current, no index by subject", "current", ["DROP INDEX audit_events_subject"])]
    results = {}
    for name, variant, prepare in variants:
        path = os.path.join(scratch, "run.db")
        for f in glob.glob(path + "*"):
            os.remove(f)
        shutil.copy(base, path)
        db = connect(path)
        for statement in prepare:
            db.execute(statement)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # A second connection keeps the WAL from being checkpointed away when the first closes.
        keep = connect(path)
        keep.execute("SELECT 1 FROM apps").fetchall()
        rotate(db, app, dict(tokens), variant, args.rotations)
        db.close()
        owner = dict(keep.execute("SELECT pageno, name FROM dbstat").fetchall())
        by_tree = collections.Counter()
        for page, n in frames(path).items():
            by_tree[owner.get(page, "(free)")] += n
        keep.close()
        results[name] = {tree: n / args.rotations for tree, n in by_tree.items()}
    shutil.rmtree(scratch)
    trees = sorted({t for r in results.values() for t in r}, key=lambda t: -max(r.get(t, 0) for r in results.values()))
    names = [n for n, _, _ in variants]
    print("| b-tree | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for tree in trees:
        print(f"| {tree} | " + " | ".join(f"{results[n].get(tree, 0):.2f}" for n in names) + " |")
    none = sum(results["none"].values())
    print("| **total** | " + " | ".join(
        f"**{sum(results[n].values()):.2f}** ({sum(results[n].values()) / none * 100 - 100:+.0f}%)" for n in names) + " |")
    print(f"\nWAL pages (4 KiB) a rotation, {args.rotations} rotations in batches of {BATCH} over "
          f"{args.sessions} sessions, after {args.history} linked events.")


if __name__ == "__main__":
    main()
