"""The run report of a Ghost import: counts per kind of row and outcome, and a note per odd row."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

KINDS = ["setting", "user", "tag", "post", "page", "posts_tags", "posts_authors", "image"]
OUTCOMES = ["imported", "updated", "unchanged", "skipped"]


@dataclass
class Report:
    """What an import did: counts per (kind, outcome) and one line per skipped or odd row."""

    counts: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def count(self, kind: str, outcome: str, note: str | None = None) -> None:
        """Count one row of kind (post, page, tag, user, image, posts_tags, posts_authors)."""
        self.counts[(kind, outcome)] += 1
        if note:
            self.notes.append(f"{kind}: {note}")

    def get(self, kind: str, outcome: str) -> int:
        """How many rows of kind ended with outcome."""
        return self.counts[(kind, outcome)]

    def lines(self) -> list[str]:
        """The report as text lines: a table of counts, then the reasons."""
        out = [f"{'':14}" + "".join(f"{o:>11}" for o in OUTCOMES)]
        for kind in KINDS:
            if any(self.counts[(kind, o)] for o in OUTCOMES):
                out.append(
                    f"{kind:14}" + "".join(f"{self.counts[(kind, o)]:>11}" for o in OUTCOMES)
                )
        if self.notes:
            out.append("")
            out.extend(f"- {note}" for note in self.notes)
        return out
