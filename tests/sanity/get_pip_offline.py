# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the get-pip.py that ansible-test downloads from ci-files.testing.ansible.com.

ansible-test bootstraps pip into every sanity virtual environment with that script and fails when
the host cannot reach it; the script may be replaced by a local copy in ~/.ansible/test/cache.
This one does the same job with the interpreter's bundled ensurepip and the ordinary package index:
install pip, then the pinned packages ansible-test asks for (the get-pip only flags are dropped).
"""

from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY_FLAGS = ("--no-setuptools", "--no-wheel")


def main() -> None:
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", *args])


if __name__ == "__main__":
    main()
