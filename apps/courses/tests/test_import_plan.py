"""The CSV enrollment import's plan: what each row would do, worked out without a database.

`services.plan_import` is a pure function of the parsed rows, the accounts found, the current
members and the free places; `import_enrollments_csv` (tested in test_services.py) applies it.
"""

from __future__ import annotations

import pytest

from apps.courses import errors, services


def outcomes(report: services.ImportReport) -> list[tuple[int, str, str]]:
    return [(row.line, row.email, row.outcome) for row in report.rows]


def test_plan_enrolls_accounts_invites_the_rest_and_skips_members() -> None:
    report = services.plan_import(
        rows=[(1, "Ada@Example.org"), (2, "new@example.org"), (3, "bob@example.org")],
        accounts={"ada@example.org": 10, "bob@example.org": 11},
        members={11},
        free_places=None,
    )

    assert outcomes(report) == [
        (1, "ada@example.org", "enrolled"),
        (2, "new@example.org", "invited"),
        (3, "bob@example.org", "already_enrolled"),
    ]
    assert report.user_ids("enrolled") == [10]
    assert report.emails("invited") == ["new@example.org"]
    assert not report.errors


def test_plan_with_a_bad_or_repeated_address_skips_every_good_row() -> None:
    report = services.plan_import(
        rows=[(1, "ada@example.org"), (2, "not an address"), (3, "ADA@example.org")],
        accounts={"ada@example.org": 10},
        members=set(),
        free_places=None,
    )

    assert [(row.line, row.outcome) for row in report.rows] == [
        (1, "skipped"),
        (2, "error"),
        (3, "error"),
    ]
    assert [str(row.detail) for row in report.errors] == [
        "not a valid email address",
        "listed more than once",
    ]


def test_plan_marks_the_rows_beyond_the_free_places_as_full() -> None:
    report = services.plan_import(
        rows=[(1, "a@example.org"), (2, "b@example.org"), (3, "c@example.org")],
        accounts={"a@example.org": 1, "b@example.org": 2, "c@example.org": 3},
        members=set(),
        free_places=2,
    )

    assert [row.outcome for row in report.rows] == ["skipped", "skipped", "error"]
    assert str(report.errors[0].detail) == "the course is full"


def test_parse_skips_the_header_and_empty_rows() -> None:
    data = b"\xef\xbb\xbfemail\n\nada@example.org,Ada\n  bob@example.org \n"

    assert services.parse_emails(data) == [(3, "ada@example.org"), (4, "bob@example.org")]


def test_parse_refuses_a_file_over_the_size_limit() -> None:
    with pytest.raises(errors.InvalidImport, match="too large"):
        services.parse_emails(b"a@example.org\n" * (services.MAX_IMPORT_BYTES // 10))
