"""Catalog, course and lesson pages under load, against a trivial view on the same server.

    .venv/bin/python bench/pages.py            # seed (or reuse) onlineteacher_bench, serve, measure

1. Creates (or reuses, when it holds the same sizes) the PostgreSQL database `onlineteacher_bench`,
   migrates it and seeds it with the project's own models through COPY: about 10,000 courses,
   100,000 lessons, 50,000 users, enrollments and lesson progress, counters kept consistent.
2. Starts the real server (`uvicorn config.asgi:application`) in production mode (DEBUG off,
   collected static files, Redis cache when Redis answers) on 127.0.0.1 and a free port.
3. Measures requests/s and p50/p99 latency with `wrk` (or a bounded Python client when wrk is
   missing) for /healthz (the reference: same middleware, no database) and the course pages.
4. Prints the figures and each page's ratio to the reference (goal: at least 0.5x requests/s).
5. Runs EXPLAIN ANALYZE on every SELECT behind the measured pages and behind each catalog
   filter x sort, and says which use an index and which scan a big table sequentially.

A benchmark, not a test: it always exits 0 once the figures are printed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Bumped whenever the seeded data's shape changes, so an old database is rebuilt, not reused.
SEED_VERSION = 4
HOST = "127.0.0.1"


# --- Command line and environment -----------------------------------------------------------


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--db", default="onlineteacher_bench", help="PostgreSQL database to seed and use"
    )
    p.add_argument(
        "--pg",
        default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without the database name",
    )
    p.add_argument(
        "--redis",
        default=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/10"),
        help="REDIS_URL for the server (cache on db N, channel layer N+1, broker N+2); "
        "'' for none. Used only if Redis answers.",
    )
    p.add_argument("--courses", type=int, default=10_000)
    p.add_argument("--lessons-per-course", type=int, default=10)
    p.add_argument("--users", type=int, default=50_000)
    p.add_argument("--enrollments", type=int, default=150_000)
    p.add_argument("--reseed", action="store_true", help="drop and seed the database again")
    p.add_argument("--seed-only", action="store_true", help="seed (or check) and stop")
    p.add_argument(
        "--settings",
        choices=["production", "local"],
        default="production",
        help="production (default): config.settings.production; "
        "local: config.settings.local with DEBUG=false",
    )
    p.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="DATABASE_CONN_MAX_AGE for the server (default 0, the project default; under "
        "ASGI each request runs in its own thread, so >0 leaves one connection per "
        "request open until PostgreSQL refuses more)",
    )
    p.add_argument(
        "--db-pool",
        choices=["on", "off"],
        default="on",
        help="DATABASE_POOL for the server: psycopg's connection pool, the project default "
        "with PostgreSQL (on), or a new connection per request (off, the figures before it)",
    )
    p.add_argument(
        "--page-cache",
        choices=["on", "off"],
        default="on",
        help="off: the server runs with a dummy cache, so every page is rendered from "
        "the database (the figures before apps/courses/page_cache.py)",
    )
    p.add_argument(
        "--signed-in",
        action="store_true",
        help="also measure the catalog and a course page for a signed-in, enrolled "
        "student (never served from the page cache)",
    )
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument("--access-log", action="store_true", help="keep uvicorn's access log on")
    p.add_argument("--duration", type=float, default=10.0, help="seconds measured per page")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per page")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    p.add_argument("--only", default="", help="comma-separated page names to measure")
    p.add_argument("--no-load", action="store_true", help="skip the load measurements")
    p.add_argument("--no-explain", action="store_true", help="skip the EXPLAIN report")
    p.add_argument("--explain-verbose", action="store_true", help="print each query plan")
    return p.parse_args()


def configure_environment(
    args: argparse.Namespace, static_root: str, redis_url: str
) -> dict[str, str]:
    """The environment both this process and the server run with (same settings, same data)."""
    env = {
        "READ_DOT_ENV_FILE": "false",
        "DATABASE_URL": f"{args.pg.rstrip('/')}/{args.db}",
        "DATABASE_CONN_MAX_AGE": str(args.conn_max_age),
        "DATABASE_POOL": "true" if args.db_pool == "on" else "false",
        "SECRET_KEY": "bench-" + "k" * 60,
        "ALLOWED_HOSTS": f"{HOST},localhost",
        "EMAIL_URL": "smtp://127.0.0.1:25",  # never used: the measured pages send no mail
        "SECURE_SSL_REDIRECT": "false",
        "SERVE_MEDIA": "false",
        "STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
        "DEBUG": "false",
        "REDIS_URL": redis_url,
        # A fresh prefix per run: nothing cached by an earlier run is ever served.
        "CACHE_KEY_PREFIX": f"bench{os.getpid()}",
        "DJANGO_SETTINGS_MODULE": f"config.settings.{args.settings}",
    }
    if args.page_cache == "off":
        env["BENCH_BASE_SETTINGS"] = env["DJANGO_SETTINGS_MODULE"]
        env["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
        env["BENCH_NO_CACHE"] = "1"
    os.environ.update(env)
    return env


def redis_answers(url: str) -> bool:
    if not url:
        return False
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def clear_run_cache(redis_url: str, prefix: str) -> None:
    """Delete what this run cached (pages, catalog version, sessions): its own key prefix only."""
    import redis

    from config.env import redis_url_for

    client = redis.Redis.from_url(redis_url_for(redis_url, 0))
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


# --- Database: create, migrate, seed ---------------------------------------------------------


def ensure_database(args: argparse.Namespace) -> bool:
    """Create the database if needed; return True when it holds a seed of the requested sizes."""
    import psycopg

    wanted = seed_params(args)
    with psycopg.connect(f"{args.pg.rstrip('/')}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db]).fetchone()
        if exists and not args.reseed:
            with psycopg.connect(f"{args.pg.rstrip('/')}/{args.db}") as db:
                try:
                    row = db.execute("SELECT params FROM bench_seed").fetchone()
                except psycopg.errors.UndefinedTable:
                    row = None
            if row and json.loads(row[0]) == wanted:
                return True
            print(
                f"database {args.db} holds another seed ({row[0] if row else 'none'}): rebuilding"
            )
        if exists:
            conn.execute(f'DROP DATABASE "{args.db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.db}"')
    return False


def seed_params(args: argparse.Namespace) -> dict[str, int]:
    return {
        "version": SEED_VERSION,
        "courses": args.courses,
        "lessons_per_course": args.lessons_per_course,
        "users": args.users,
        "enrollments": args.enrollments,
    }


def copy_rows(model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """COPY rows (dicts keyed by column) into the model's table; unset columns get the default."""
    from django.db import connection
    from psycopg import sql

    now = datetime.now(UTC)
    fields = list(model._meta.concrete_fields)
    columns = [f.column for f in fields]
    defaults: dict[str, Any] = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.column] = now
        elif f.has_default():
            defaults[f.column] = f.get_default()
        elif f.null:
            defaults[f.column] = None
        elif f.empty_strings_allowed:
            defaults[f.column] = ""
    count = 0
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[c] if c in row else defaults[c] for c in columns])
            count += 1
    return count


WORDS_ADJ = [
    "Practical",
    "Modern",
    "Applied",
    "Essential",
    "Hands-on",
    "Complete",
    "Intro to",
    "Mastering",
    "Advanced",
    "Everyday",
    "Creative",
    "Fast-track",
    "Friendly",
    "Deep dive into",
    "Visual",
]
WORDS_TOPIC = [
    "Python",
    "Django",
    "statistics",
    "algebra",
    "guitar",
    "German",
    "Spanish",
    "French grammar",
    "web design",
    "photography",
    "data analysis",
    "machine learning",
    "chemistry",
    "piano",
    "public speaking",
    "accounting",
    "drawing",
    "SQL",
    "JavaScript",
    "biology",
    "world history",
    "creative writing",
    "marketing",
    "electronics",
    "yoga",
    "cooking",
    "physics",
    "economics",
]
WORDS_NOUN = [
    "basics",
    "for beginners",
    "in practice",
    "step by step",
    "workshop",
    "bootcamp",
    "essentials",
    "projects",
    "from scratch",
    "for teams",
    "crash course",
    "lab",
]
FIRST = [
    "Ada",
    "Ben",
    "Chloé",
    "Dmitri",
    "Eva",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Luca",
    "Mara",
    "Nils",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Viktor",
]
LAST = [
    "Andersen",
    "Bauer",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "López",
    "Müller",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Rossi",
    "Smith",
]

DESCRIPTION = """## What you will learn

This course walks you through **{topic}** one small step at a time. Each lesson has a short
video, a reading and an exercise you can finish in under an hour.

- Understand the core ideas behind {topic}
- Practise with real examples and get feedback from your instructor
- Build a small project you can show to others

## Who this course is for

Anyone curious about {topic}. No previous experience is needed for the first lessons; later
lessons build on them. Live sessions happen every week and are recorded.

> "The best way to learn is to do." Start with the free preview lessons.
"""
LESSON_BODY = """## {title}

In this lesson we look at *{topic}* from a new angle. Read the notes, watch the video and then
try the exercise at the end.

1. Read the short introduction.
2. Work through the worked example.
3. Try the exercise on your own, then compare with the solution.

```
example = [n * n for n in range(10)]
print(sum(example))
```

| Step | Time |
|------|------|
| Reading | 10 min |
| Exercise | 20 min |

Questions? Ask in the course forum or bring them to the next live session.
"""


def seed(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils.text import slugify

    from apps.accounts.models import Profile, User
    from apps.courses.markdown import render_markdown
    from apps.courses.models import (
        Category,
        Course,
        Enrollment,
        Lesson,
        LessonProgress,
        Tag,
    )

    rng = random.Random(42)  # same data on every machine
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = time.monotonic()
    n_courses, per_course, n_users = args.courses, args.lessons_per_course, args.users
    n_instructors = max(10, n_users // 100)

    def step(label: str, count: int) -> None:
        print(f"  {label:<32} {count:>9,}  ({time.monotonic() - t0:5.1f} s)", flush=True)

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO off")

        # Users and their profiles (every user has exactly one profile, as User.save ensures).
        def users() -> Iterator[dict[str, Any]]:
            for i in range(1, n_users + 1):
                yield {
                    "id": i,
                    "password": "!bench-unusable",
                    "last_login": None,
                    "is_superuser": False,
                    "email": f"user{i}@bench.example",
                    "display_name": f"{FIRST[i % len(FIRST)]} {LAST[(i // 7) % len(LAST)]} {i}",
                    "is_staff": False,
                    "is_active": True,
                    "date_joined": now - timedelta(minutes=i),
                }

        step("users", copy_rows(User, users()))
        step(
            "profiles", copy_rows(Profile, ({"id": i, "user_id": i} for i in range(1, n_users + 1)))
        )
        groups = {g.name: g.pk for g in Group.objects.all()}
        membership = User.groups.through
        if groups:
            step(
                "group memberships",
                copy_rows(
                    membership,
                    (
                        {
                            "id": i,
                            "user_id": i,
                            "group_id": groups.get(
                                "instructor" if i <= n_instructors else "student"
                            ),
                        }
                        for i in range(1, n_users + 1)
                    ),
                ),
            )

        # Categories: 8 top categories with 4 children each; 60 tags.
        top_names = [
            "Programming",
            "Data",
            "Languages",
            "Music",
            "Science",
            "Business",
            "Art",
            "Health",
        ]
        categories: list[dict[str, Any]] = []
        cid = 0
        for t, top in enumerate(top_names):
            cid += 1
            top_id = cid
            categories.append(
                {
                    "id": top_id,
                    "name": top,
                    "slug": slugify(top),
                    "parent_id": None,
                    "position": t,
                    "description": f"Courses about {top.lower()}.",
                }
            )
            for k in range(4):
                cid += 1
                name = f"{top} {['basics', 'tools', 'practice', 'theory'][k]}"
                categories.append(
                    {
                        "id": cid,
                        "name": name,
                        "slug": slugify(name),
                        "parent_id": top_id,
                        "position": k,
                        "description": "",
                    }
                )
        step("categories", copy_rows(Category, categories))
        tag_names = [
            f"{w}-{k}"
            for w in ("skill", "topic", "tool", "theme", "format", "goal")
            for k in range(10)
        ]
        step(
            "tags",
            copy_rows(
                Tag, ({"id": i, "name": name, "slug": name} for i, name in enumerate(tag_names, 1))
            ),
        )

        # Courses: ~88% published, 8% draft, 4% archived; popularity skewed (a few big courses).
        descriptions = {t: DESCRIPTION.format(topic=t) for t in WORDS_TOPIC}
        description_html = {t: render_markdown(d) for t, d in descriptions.items()}
        levels, languages = ["beginner", "intermediate", "advanced"], ["en", "de", "es", "fr"]
        policies = ["open"] * 8 + ["approval", "invite"]
        course_rows: list[dict[str, Any]] = []
        for i in range(1, n_courses + 1):
            topic = WORDS_TOPIC[rng.randrange(len(WORDS_TOPIC))]
            title = (
                f"{WORDS_ADJ[rng.randrange(len(WORDS_ADJ))]} {topic} "
                f"{WORDS_NOUN[rng.randrange(len(WORDS_NOUN))]} {i}"
            )
            r = rng.random()
            status = "published" if r < 0.88 else ("draft" if r < 0.96 else "archived")
            published_at = (
                None
                if status == "draft"
                else now - timedelta(days=rng.randrange(1, 1100), seconds=rng.randrange(86400))
            )
            child = rng.randrange(len(categories))
            course_rows.append(
                {
                    "id": i,
                    "created_at": now - timedelta(days=1200) + timedelta(minutes=i),
                    "updated_at": now,
                    "slug": f"{slugify(title)[:80]}-{i}",
                    "title": title,
                    "summary": f"Learn {topic} with weekly live sessions and short exercises.",
                    "description": descriptions[topic],
                    "description_html": description_html[topic],
                    "cover_image": "",
                    "level": levels[rng.randrange(3)],
                    "language": rng.choices(languages, weights=[6, 2, 1, 1])[0],
                    "status": status,
                    "published_at": published_at,
                    "category_id": None if i % 25 == 0 else categories[child]["id"],
                    "enrollment_policy": policies[rng.randrange(len(policies))],
                    "capacity": None,  # set below: a few courses have room left
                    "active_enrollment_count": 0,  # set below from the enrollments
                    "lesson_count": 0,
                }
            )
        n_tags = len(tag_names)
        course_tags: list[dict[str, Any]] = []
        for c in course_rows:
            for tag_id in rng.sample(range(1, n_tags + 1), rng.randrange(1, 4)):
                course_tags.append(
                    {"id": len(course_tags) + 1, "course_id": c["id"], "tag_id": tag_id}
                )
        course_instructors: list[dict[str, Any]] = []
        for c in course_rows:
            for user_id in rng.sample(range(1, n_instructors + 1), 1 if rng.random() < 0.7 else 2):
                course_instructors.append(
                    {"id": len(course_instructors) + 1, "course_id": c["id"], "user_id": user_id}
                )

        # Lessons: `per_course` each; the first is a free preview; every tenth course keeps its
        # last lesson unpublished, so lesson_count (published lessons) is not always the same.
        lesson_titles = [
            "Welcome",
            "Getting started",
            "Core ideas",
            "A worked example",
            "Practice",
            "Going further",
            "Common mistakes",
            "Project",
            "Review",
            "Next steps",
            "Bonus",
            "Q&A",
        ]
        bodies = {t: LESSON_BODY.format(title=t, topic="the topic") for t in lesson_titles}
        bodies_html = {t: render_markdown(b) for t, b in bodies.items()}
        published_lessons: dict[int, list[int]] = {}

        def lessons() -> Iterator[dict[str, Any]]:
            lid = 0
            for c in course_rows:
                ids = published_lessons.setdefault(c["id"], [])
                for pos in range(1, per_course + 1):
                    lid += 1
                    title = lesson_titles[(pos - 1) % len(lesson_titles)]
                    is_published = not (c["id"] % 10 == 0 and pos == per_course)
                    if is_published:
                        ids.append(lid)
                    yield {
                        "id": lid,
                        "created_at": c["created_at"],
                        "updated_at": now,
                        "course_id": c["id"],
                        "position": pos,
                        "slug": f"{pos:02d}-{slugify(title)}",
                        "title": f"{title} ({pos})",
                        "body": bodies[title],
                        "body_html": bodies_html[title],
                        "video_file": "",
                        "video_url": f"https://video.example.org/{c['id']}/{pos}.mp4"
                        if pos == 1
                        else "",
                        "is_free_preview": pos == 1,
                        "is_published": is_published,
                    }

        step("lessons", copy_rows(Lesson, lessons()))
        for c in course_rows:
            c["lesson_count"] = len(published_lessons[c["id"]])

        # Enrollments (published and archived courses), Zipf-like popularity.
        open_courses = [c for c in course_rows if c["status"] != "draft"]
        weights = [1 / (rank**0.9) for rank in range(1, len(open_courses) + 1)]
        rng.shuffle(open_courses)
        students_from = n_instructors + 1
        picked = rng.choices(range(len(open_courses)), weights=weights, k=args.enrollments)
        seen: set[tuple[int, int]] = set()
        enrollments: list[dict[str, Any]] = []
        progress: list[dict[str, Any]] = []
        for idx in picked:
            c = open_courses[idx]
            student = rng.randrange(students_from, n_users + 1)
            if (c["id"], student) in seen:
                continue
            seen.add((c["id"], student))
            r = rng.random()
            status = (
                "active"
                if r < 0.8
                else "completed"
                if r < 0.9
                else "pending"
                if r < 0.95
                else "dropped"
            )
            eid = len(enrollments) + 1
            lesson_ids = published_lessons[c["id"]]
            if status == "completed":
                done = lesson_ids
            elif status in ("active", "dropped"):
                done = lesson_ids[: rng.choice([0, 0, 0, 1, 2, 3])]
            else:
                done = []
            for lesson_id in done:
                progress.append(
                    {
                        "id": len(progress) + 1,
                        "enrollment_id": eid,
                        "lesson_id": lesson_id,
                        "completed_at": now - timedelta(days=1),
                    }
                )
            if status == "active":
                c["active_enrollment_count"] += 1
            enrollments.append(
                {
                    "id": eid,
                    "created_at": now - timedelta(days=30),
                    "updated_at": now - timedelta(days=rng.randrange(30)),
                    "course_id": c["id"],
                    "student_id": student,
                    "status": status,
                    "completed_at": now - timedelta(days=1) if status == "completed" else None,
                    "decided_by_id": None,
                    "completed_lesson_count": len(done),
                }
            )

        for c in course_rows:
            if c["id"] % 7 == 0:
                c["capacity"] = c["active_enrollment_count"] + 20
        step("courses", copy_rows(Course, course_rows))
        step("course tags", copy_rows(Course.tags.through, course_tags))
        step("course instructors", copy_rows(Course.instructors.through, course_instructors))
        step("enrollments", copy_rows(Enrollment, enrollments))
        step("lesson progress", copy_rows(LessonProgress, progress))

        from django.core.management.color import no_style

        models: list[Any] = [
            User,
            Profile,
            membership,
            Category,
            Tag,
            Course,
            Course.tags.through,
            Course.instructors.through,
            Lesson,
            Enrollment,
            LessonProgress,
        ]
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
            cursor.execute("CREATE TABLE bench_seed (params text NOT NULL)")
            cursor.execute("INSERT INTO bench_seed VALUES (%s)", [json.dumps(seed_params(args))])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    step("committed, vacuumed, analyzed", 0)


def prepare_database(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    t0 = time.monotonic()
    reuse = ensure_database(args)
    call_command("migrate", interactive=False, verbosity=0)
    if reuse:
        print(
            f"database {args.db}: reusing the seed of the same sizes "
            f"(--reseed to rebuild); migrations applied"
        )
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return
    print(
        f"seeding {args.db}: {args.courses:,} courses x {args.lessons_per_course} lessons, "
        f"{args.users:,} users, ~{args.enrollments:,} enrollments"
    )
    seed(args)
    print(f"database ready in {time.monotonic() - t0:.1f} s (create + migrate + seed)")


# --- Server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(args: argparse.Namespace, env: dict[str, str], workdir: Path) -> Server:
    port = free_port()
    cmd = [
        str(ROOT / ".venv/bin/uvicorn"),
        "config.asgi:application",
        "--lifespan",
        "off",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    if args.workers > 1:
        cmd += ["--workers", str(args.workers)]
    if not args.access_log:
        cmd.append("--no-access-log")
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(process, f"http://{HOST}:{port}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        status, body = 0, b""
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            status, body = fetch(server.base + "/readyz")
        failed = json.loads(body).get("failed", []) if status in (200, 503) else ["?"]
        if status == 200 or (args.page_cache == "off" and failed == ["cache"]):
            print(f"server: {' '.join(cmd[1:])}\n  ready: {body.decode()}")
            return server
        time.sleep(0.2)
    server.stop()
    print(log.read_text()[-4000:])
    raise SystemExit("the server did not become ready (see its log above)")


# --- Load ------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    path: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    size: int = 0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def run_wrk(url: str, args: argparse.Namespace, seconds: float, cookie: str) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
        url,
    ]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    found: dict[str, Any] = {"raw": out}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        found["rps"] = float(m.group(1))
    if m := re.search(r"(\d+) requests in", out):
        found["requests"] = int(m.group(1))
    for pct in ("50", "99"):
        if m := re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M):
            found[f"p{pct}"] = _ms(m.group(1))
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    found["errors"] = errors
    return found


async def _python_load(
    host: str, port: int, path: str, connections: int, seconds: float, cookie: str
) -> dict[str, Any]:
    """A bounded keep-alive HTTP/1.1 client: `connections` loops for `seconds`, then stop."""
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/html\r\n{extra}\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def one() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.monotonic() < deadline:
                start = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                else:  # chunked
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                        await reader.readexactly(size + 2)
                        if size == 0:
                            break
                latencies.append((time.perf_counter() - start) * 1000)
                if status >= 400:
                    errors += 1
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.wait_for(
        asyncio.gather(*(one() for _ in range(connections))), timeout=seconds + 30
    )
    elapsed = time.monotonic() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "rps": len(latencies) / elapsed,
        "requests": len(latencies),
        "p50": q[49],
        "p99": q[98],
        "errors": errors,
    }


def measure(
    url: str, path: str, args: argparse.Namespace, client: str, seconds: float, cookie: str = ""
) -> dict[str, Any]:
    if client == "wrk":
        return run_wrk(url, args, seconds, cookie)
    port = int(url.split(":")[2].split("/")[0])
    return asyncio.run(_python_load(HOST, port, path, args.connections, seconds, cookie))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """wrk does not follow redirects: neither does the check before it, so a page that answers
    302 (sign-in, consent, 2FA set-up) is reported and skipped instead of measured."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str, cookie: str = "") -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    cookie: str = ""  # a signed-in session; "" for an anonymous visitor


def pages(args: argparse.Namespace) -> list[Page]:
    """The measured pages, chosen from the seeded data."""
    from django.conf import settings
    from django.test import Client

    from apps.courses.models import Category, Course, Enrollment, Lesson, Tag

    published = Course.objects.filter(status=Course.Status.PUBLISHED)
    # A course of typical popularity (the median), with its free-preview lesson.
    ordered = published.order_by("-active_enrollment_count", "id").values_list("id", flat=True)
    course = Course.objects.get(pk=ordered[len(ordered) // 2])
    lesson = Lesson.objects.filter(course=course, is_free_preview=True, is_published=True).first()
    assert lesson is not None, "the seed gives every course a free preview"
    top = Category.objects.filter(parent__isnull=True).order_by("position").first()
    tag = Tag.objects.order_by("name")[len(Tag.objects.all()) // 2]
    chosen = [
        Page("healthz (reference)", "/healthz"),
        Page("catalog", "/courses/"),
        Page("catalog level+popular", "/courses/?level=beginner&sort=popular"),
        Page("catalog page 200", "/courses/?page=200"),
        Page("catalog category+title", f"/courses/?category={top.slug}&sort=title" if top else ""),
        Page("catalog tag", f"/courses/?tag={tag.slug}"),
        Page("course page", course.get_absolute_url()),
        Page("lesson page (free preview)", lesson.get_absolute_url()),
    ]
    if args.signed_in:
        enrollment = (
            Enrollment.objects.filter(course=course, status=Enrollment.Status.ACTIVE)
            .select_related("student")
            .order_by("id")
            .first()
        )
        if enrollment is not None:
            from apps.privacy.consent import accept_current_documents
            from apps.privacy.models import Consent

            # A seeded student has accepted nothing yet: without this every signed-in page
            # answers 302 to the consent page.
            if not Consent.objects.filter(user=enrollment.student).exists():
                accept_current_documents(user=enrollment.student, source=Consent.Source.SEED)
            client = Client()
            client.force_login(enrollment.student)
            name = settings.SESSION_COOKIE_NAME
            cookie = f"{name}={client.cookies[name].value}"
            chosen += [
                Page("catalog, signed in", "/courses/", cookie),
                Page("course page, enrolled", course.get_absolute_url(), cookie),
                Page("lesson page, enrolled", lesson.get_absolute_url(), cookie),
            ]
    return [p for p in chosen if p.path]


def run_load(args: argparse.Namespace, server: Server, client: str) -> list[Result]:
    chosen = pages(args)
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        chosen = [c for c in chosen if c.name in wanted or c.path == "/healthz"]
    results: list[Result] = []
    processes = "one server process" if args.workers == 1 else f"{args.workers} server workers"
    print(
        f"\nload: {client}, {args.threads} threads, {args.connections} connections, "
        f"{args.warmup:g} s warm-up + {args.duration:g} s per page, {processes}"
    )
    order = [*chosen, Page("healthz (again, at the end)", "/healthz")]
    for name, path, cookie in ((p.name, p.path, p.cookie) for p in order):
        url = server.base + path
        status, body = fetch(url, cookie)
        if status != 200:
            print(f"  {name}: {path} answered {status}; skipped\n{body[:500]!r}")
            results.append(Result(name, path, note=f"HTTP {status}"))
            continue
        if args.warmup > 0:
            measure(url, path, args, client, args.warmup, cookie)
        found = measure(url, path, args, client, args.duration, cookie)
        result = Result(
            name,
            path,
            rps=found.get("rps", 0.0),
            p50_ms=found.get("p50", 0.0),
            p99_ms=found.get("p99", 0.0),
            requests=found.get("requests", 0),
            errors=found.get("errors", 0),
            size=len(body),
        )
        if not found.get("rps"):
            result.note = "no figures: " + found.get("raw", "")[-300:]
        results.append(result)
        print(
            f"  {name:<30} {result.rps:>9.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
            f"p99 {result.p99_ms:7.2f} ms  {result.requests} requests, {result.errors} errors",
            flush=True,
        )
    return results


def report(results: list[Result]) -> None:
    refs = [r for r in results if r.path == "/healthz" and r.rps]
    if not refs:
        print("no reference figures")
        return
    ref_rps = statistics.mean(r.rps for r in refs)
    ref_p99 = statistics.mean(r.p99_ms for r in refs)
    print(
        f"\nreference /healthz: {ref_rps:.1f} req/s (mean of the runs before and after), "
        f"p99 {ref_p99:.2f} ms"
    )
    header = (
        f"{'page':<30} {'path':<52} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'x rps':>6} {'x p99':>6} {'bytes':>7} goal"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        if not r.rps:
            print(f"{r.name:<30} {r.path[:52]:<52} {r.note}")
            continue
        ratio = r.rps / ref_rps
        p99_ratio = r.p99_ms / ref_p99 if ref_p99 else float("nan")
        goal = "" if r.path == "/healthz" else ("ok" if ratio >= 0.5 else "BELOW 0.5x")
        print(
            f"{r.name:<30} {r.path[:52]:<52} {r.rps:>8.1f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{ratio:>6.2f} {p99_ratio:>6.2f} {r.size:>7} {goal}"
            + (f"  ({r.errors} errors)" if r.errors else "")
        )


# --- EXPLAIN ---------------------------------------------------------------------------------

BIG_TABLES = (
    "courses_course",
    "courses_lesson",
    "courses_enrollment",
    "courses_course_tags",
    "courses_course_instructors",
    "courses_lessonprogress",
    "accounts_user",
    "accounts_profile",
)
SCAN = re.compile(
    r"(Parallel Seq Scan|Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan|Bitmap Index Scan)"
    r"(?: Backward)?(?: using (\S+))? on (\S+)"
)


@dataclass
class Plan:
    sql: str
    text: str
    ms: float
    seq: list[str]  # big tables read by a sequential scan
    indexes: list[str]
    sorted_rows: int | None  # rows fed to a Sort node (None: the order came from an index)

    @property
    def kind(self) -> str:
        if "COUNT(*)" in self.sql.upper():
            return "count"
        limit = re.search(r" LIMIT (\d+)", self.sql)
        if self.sql.startswith('SELECT "courses_course"') and limit and int(limit.group(1)) > 1:
            return "listing"
        return "other"

    def summary(self) -> str:
        scans = (
            "SEQ SCAN " + ",".join(sorted(set(self.seq)))
            if self.seq
            else (", ".join(dict.fromkeys(self.indexes)) or "-")
        )
        order = (
            ""
            if self.kind != "listing"
            else (
                ", in index order"
                if self.sorted_rows is None
                else f", sorts {self.sorted_rows} rows"
            )
        )
        return f"{scans}{order} ({self.ms:.2f} ms)"


def explain(sql: str) -> Plan:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE) " + sql)
        text = "\n".join(row[0] for row in cursor.fetchall())
    seq, used = [], []
    for kind, index, target in SCAN.findall(text):
        if "Seq Scan" in kind:
            if target in BIG_TABLES:
                seq.append(target)
        elif kind == "Bitmap Index Scan":
            used.append(target)  # "Bitmap Index Scan on <index>"
        elif index:
            used.append(index)
    # The rows the top-most Sort of the main query receives ("Sort ... rows=N" on its child).
    sorted_rows = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*(->\s+)?(Incremental )?Sort\b", line) and "Sort Key" in lines[i + 1]:
            child = next((ln for ln in lines[i + 1 :] if "->" in ln and "actual" in ln), "")
            m = re.search(r"actual time=\S+ rows=(\d+)", child)
            sorted_rows = int(m.group(1)) if m else 0
            break
    ms = float(m.group(1)) if (m := re.search(r"Execution Time: ([\d.]+) ms", text)) else 0.0
    return Plan(sql, text, ms, seq, used, sorted_rows)


def page_queries(path: str) -> tuple[int, list[str]]:
    """Status and the SQL of every query one anonymous GET of `path` runs (cache disabled)."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    dummy = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    with override_settings(CACHES=dummy), CaptureQueriesContext(connection) as ctx:
        response = Client(HTTP_HOST=HOST).get(path)
    return response.status_code, [q["sql"] for q in ctx.captured_queries]


def run_explain(args: argparse.Namespace, measured: list[Page]) -> None:
    from apps.courses.models import Category, Tag

    child = Category.objects.filter(parent__isnull=False).order_by("id").first()
    top = Category.objects.filter(parent__isnull=True).order_by("id").first()
    tag = Tag.objects.order_by("id").first()
    filters = [
        ("no filter", ""),
        (f"category {top.slug} (top: IN with its children)", f"category={top.slug}")
        if top
        else None,
        (f"category {child.slug}", f"category={child.slug}") if child else None,
        (f"tag {tag.slug}", f"tag={tag.slug}") if tag else None,
        ("level beginner", "level=beginner"),
        ("language de", "language=de"),
        ("level+language advanced/fr", "level=advanced&language=fr"),
    ]
    targets = [(p.name, p.path) for p in measured if p.path != "/healthz" and not p.cookie]
    for f in filters:
        if f:
            label, query = f
            for sort in ("newest", "title", "popular"):
                targets.append(
                    (
                        f"catalog {label} / {sort}",
                        f"/courses/?{query}&sort={sort}".replace("?&", "?"),
                    )
                )
    targets += [
        ("catalog page 200 / newest", "/courses/?page=200"),
        (
            "catalog level beginner page 100 / popular",
            "/courses/?level=beginner&sort=popular&page=100",
        ),
        ("catalog language de page 60 / title", "/courses/?language=de&sort=title&page=60"),
        (
            f"catalog {child.slug} page 10 / popular" if child else "catalog",
            f"/courses/?category={child.slug}&sort=popular&page=10" if child else "/courses/",
        ),
        (
            f"catalog tag {tag.slug} page 20 / title" if tag else "catalog",
            f"/courses/?tag={tag.slug}&sort=title&page=20" if tag else "/courses/",
        ),
        # Title search (icontains '%word%') is not one of the indexed filters: a B-tree cannot
        # serve it; a pg_trgm GIN index could (PostgreSQL only). Listed for information.
        ("catalog search q=python (info: not indexed)", "/courses/?q=python"),
    ]

    print("\nEXPLAIN ANALYZE of every query behind each page, on the seeded data, cache disabled")
    print("  listing = the page of courses; count = the paginator's COUNT(*); other = the rest")
    print("-" * 120)
    problems: list[str] = []
    shown: dict[str, Plan] = {}
    for name, path in targets:
        status, queries = page_queries(path)
        plans = [explain(q) for q in queries if q.lstrip().upper().startswith("SELECT")]
        total = sum(p.ms for p in plans)
        print(f"{name}  [{path}]  HTTP {status}, {len(queries)} queries, {total:.2f} ms in the DB")
        for kind in ("listing", "count"):
            for plan in (p for p in plans if p.kind == kind):
                print(f"    {kind:<8} {plan.summary()}")
        others = [p for p in plans if p.kind == "other"]
        if others:
            seq = sorted({t for p in others for t in p.seq})
            indexes = sorted({i for p in others for i in p.indexes})
            print(
                f"    {'other':<8} {len(others)} queries, "
                + (f"SEQ SCAN {', '.join(seq)}" if seq else "indexes: " + ", ".join(indexes))
            )
        for plan in plans:
            if plan.seq or args.explain_verbose:
                shown.setdefault(plan.sql, plan)
        if any("courses_course" in p.seq for p in plans if p.kind == "listing"):
            problems.append(name)
    if shown:
        print(
            "\nplans with a sequential scan on a big table"
            + (" (and all, --explain-verbose)" if args.explain_verbose else "")
        )
        for sql, plan in shown.items():
            print("\n" + sql[:400] + ("..." if len(sql) > 400 else "") + "\n" + plan.text)
    print(
        f"\nlisting queries with a Seq Scan on courses_course: {len(problems)}"
        + (f" ({'; '.join(problems)})" if problems else "")
    )


# --- Main ------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    client = args.client
    if client in ("auto", "wrk") and not shutil.which("wrk"):
        print(
            "wrk is not installed: `apt-get install -y wrk` (Debian) gives steadier figures; "
            "using the bounded Python client instead"
        )
        client = "python"
    elif client == "auto":
        client = "wrk"
    workdir = Path(tempfile.mkdtemp(prefix="onlineteacher-bench-"))
    redis_url = args.redis if redis_answers(args.redis) else ""
    env = configure_environment(args, str(workdir / "static"), redis_url)
    cache_text = "Redis " + redis_url if redis_url else "local memory (Redis not answering)"
    if args.page_cache == "off":
        cache_text = "dummy (--page-cache off: nothing cached)"
    print(
        f"settings: {env.get('BENCH_BASE_SETTINGS', env['DJANGO_SETTINGS_MODULE'])} (DEBUG off)"
        f", database {args.db}, DATABASE_POOL={args.db_pool}"
        f"{'' if args.db_pool == 'on' else f', DATABASE_CONN_MAX_AGE={args.conn_max_age}'}"
        f", cache: {cache_text}"
    )

    import django

    django.setup()
    server: Server | None = None
    try:
        prepare_database(args)
        if args.seed_only:
            return 0
        from django.core.management import call_command

        if args.settings == "production":
            t0 = time.monotonic()
            call_command("collectstatic", interactive=False, verbosity=0)
            print(f"collectstatic into {workdir / 'static'} ({time.monotonic() - t0:.1f} s)")
        measured = pages(args)
        if not args.no_load:
            server = start_server(args, env, workdir)
            results = run_load(args, server, client)
            server.stop()
            server = None
            report(results)
        if not args.no_explain:
            run_explain(args, measured)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        if redis_url:
            clear_run_cache(redis_url, env["CACHE_KEY_PREFIX"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
