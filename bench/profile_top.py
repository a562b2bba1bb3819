"""Top entries of a py-spy profile recorded with `-f raw` (collapsed stacks), by own and total time.

Usage: .venv/bin/python bench/profile_top.py PROFILE.txt [--top 15]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# py-spy starts each stack with the processes (their command lines may hold ';') and the thread.
_PROCESSES = re.compile(r'^(?:process \d+:"[^"]*";)+')
# py-spy frames read "function (path/to/file.py:line)"; the line number varies within a function.
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    short = "/".join(path.split("/")[-2:])
    return f"{match.group('function')} ({short})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in args.profile.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # py-spy puts the process and the thread first ("process 12:...", "thread (12): name").
        raw = [frame.strip() for frame in _PROCESSES.sub("", stack).split(";")]
        code = [
            _name(frame) for frame in raw if "(" in frame and not frame.startswith(("thread (", "process "))
        ]
        if not code:
            continue
        samples += count
        own[code[-1]] += count
        for frame in set(code):
            total[frame] += count
    print(f"{samples} samples")
    for title, counter in (("own time", own), ("total time (frame on the stack)", total)):
        print(f"\ntop {args.top} by {title}:")
        for frame, count in counter.most_common(args.top):
            print(f"{100 * count / max(samples, 1):5.1f}%  {frame}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
