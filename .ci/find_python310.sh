#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter, or one clear line saying how to get one.
set -u
for candidate in python3.10 "$HOME/.pyenv/versions/3.10"*/bin/python3.10 /usr/bin/python3.10 python3 python; do
    path=$(command -v "$candidate" 2>/dev/null) || continue
    if "$path" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
        "$path" -c "import sys; print(sys.executable)"
        exit 0
    fi
done
echo "error: Python 3.10 not found (lava-nc 0.10 / lava-dl 0.6 need >=3.10,<3.11); install it, e.g. 'pyenv install 3.10' or 'apt-get install python3.10', then rerun." >&2
exit 1
