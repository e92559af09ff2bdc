"""The sample digest: deterministic, realistic items about vibe coding, for the demo and tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from ..errors import ItemValidationError
from ..settings import validate_count
from .item import DigestItem

_SAMPLES: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    (
        "agent-mode-refactors",
        "Agent mode refactors a 40-file codebase from one prompt",
        "hackernews",
        "A write-up of letting an IDE agent plan, edit and test a large refactor, and where review still mattered.",
        ("agents", "refactoring"),
    ),
    (
        "prompt-as-spec",
        "Treat the prompt as the spec: acceptance criteria first",
        "blog",
        "Writing acceptance criteria before prompting cut the rework loop in half for a small team.",
        ("prompting", "testing"),
    ),
    (
        "tests-keep-vibes-honest",
        "Tests keep the vibes honest",
        "newsletter",
        "Why generated code needs a fast test suite as its guard rail, with examples of bugs it caught.",
        ("testing", "quality"),
    ),
    (
        "weekend-saas-postmortem",
        "Postmortem: a weekend SaaS built almost entirely by prompting",
        "reddit",
        "What worked (scaffolding, UI), what did not (auth edge cases, migrations) and the cost in tokens.",
        ("case-study", "startups"),
    ),
    (
        "context-windows-in-practice",
        "Context windows in practice: what to feed the model",
        "youtube",
        "A walkthrough of curating files, docs and errors so the assistant edits the right thing.",
        ("context", "prompting"),
    ),
    (
        "review-generated-prs",
        "How we review AI-generated pull requests",
        "blog",
        "A checklist for reviewers: intent, tests, dependencies, secrets, and the smell of plausible nonsense.",
        ("code-review", "process"),
    ),
    (
        "local-models-for-coding",
        "Local models for coding: a month-long comparison",
        "hackernews",
        "Latency, quality and privacy trade-offs of running coding models on a laptop versus hosted ones.",
        ("models", "privacy"),
    ),
    (
        "vibe-coding-security",
        "Vibe coding and security: injection bugs slip through",
        "newsletter",
        "Generated handlers often skip input validation; a short audit of common slips and their fixes.",
        ("security", "quality"),
    ),
)


def sample_digest(day: date, count: int = 5) -> list[DigestItem]:
    """Return ``count`` deterministic, realistic digest items about vibe coding for ``day``.

    Item ids start with a zero-padded rank (``001-...``) so sort-key order is rank
    order; scores decrease with rank; the same arguments always give the same items.
    """
    validate_count(count, "count", least=0, error=ItemValidationError)
    start = datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)
    items = []
    for rank in range(1, count + 1):
        slug, title, source, summary, tags = _SAMPLES[(rank - 1) % len(_SAMPLES)]
        cycle = (rank - 1) // len(_SAMPLES)
        suffix = f"-{cycle + 1}" if cycle else ""
        items.append(
            DigestItem(
                digest_date=day.isoformat(),
                item_id=f"{rank:03d}-{slug}{suffix}",
                title=title + (f" (part {cycle + 1})" if cycle else ""),
                url=f"https://example.com/vibe-coding/{slug}{suffix}",
                source=source,
                summary=summary,
                score=round(max(0.99 - 0.04 * (rank - 1), 0.05), 2),
                tags=tags,
                created_at=start + timedelta(minutes=7 * (rank - 1)),
            )
        )
    return items
