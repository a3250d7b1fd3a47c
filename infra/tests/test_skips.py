"""The checkov skips in the IaC and the list in infra/checkov-skips.md must agree: every inline
`checkov:skip=<id>` has a row (same file, same id) and every row has its inline skip."""

import re
import sys
import unittest
from pathlib import Path

INFRA = Path(__file__).resolve().parents[1]


def inline_skips():
    found = set()
    for path in sorted(INFRA.glob("bicep/*.bicep")) + sorted(INFRA.glob("terraform/*.tf")):
        for match in re.finditer(r"checkov:skip=([A-Z0-9_]+):\s*(\S.*)", path.read_text()):
            found.add((path.relative_to(INFRA).as_posix(), match.group(1)))
    return found


def listed_skips():
    """Rows `| id | `file` | `resource` | why |` of the inline table."""
    found = set()
    for line in (INFRA / "checkov-skips.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"CKV2?_[A-Z]+_\d+", cells[0]):
            found.add((cells[1].strip("`"), cells[0]))
    return found


class SkipsAreListed(unittest.TestCase):
    def test_every_inline_skip_is_listed_and_every_row_is_inline(self):
        inline, listed = inline_skips(), listed_skips()
        self.assertTrue(inline, "no inline skips found: the parser is broken")
        self.assertFalse(inline - listed, "inline skips missing from infra/checkov-skips.md")
        self.assertFalse(listed - inline, "rows of infra/checkov-skips.md with no inline skip")


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
