"""No include runs upward or sideways between the folders of services/.

services/FLOORS lists the folders by floor, lowest first; a file may include headers of its own
folder and of folders on lower floors only. Every folder of services/ must stand on a floor, and
every floor's folder must exist. The files are read from the source tree FLOORS comes from (found
by following its symlink), so a new file is checked without being declared anywhere.

  floors_test.py <services/FLOORS>
"""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"services/([A-Za-z0-9_]+)/([^"]+)"', re.M)


def floors(path):
    out = {}
    floor = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if not line:
                continue
            for folder in line:
                if folder in out:
                    raise SystemExit(f"FAIL: {folder} stands on two floors in FLOORS")
                out[folder] = floor
            floor += 1
    return out


def main():
    floors_file = os.path.realpath(sys.argv[1])
    root = os.path.dirname(floors_file)
    floor_of = floors(floors_file)
    problems = []
    folders = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    for d in folders:
        if d not in floor_of:
            problems.append(f"services/{d} stands on no floor: add it to services/FLOORS")
    for d in floor_of:
        if d not in folders:
            problems.append(f"services/FLOORS names {d}, which is not a folder of services/")
    checked = 0
    for d in folders:
        if d not in floor_of:
            continue
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for name in sorted(files):
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.join(dirpath, name)
                checked += 1
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    target = m.group(1)
                    if target == d:
                        continue
                    rel = os.path.relpath(path, os.path.dirname(root))
                    if target not in floor_of:
                        problems.append(f"{rel} includes services/{target}/{m.group(2)}, "
                                        f"a folder on no floor")
                    elif floor_of[target] >= floor_of[d]:
                        way = "sideways" if floor_of[target] == floor_of[d] else "upward"
                        problems.append(f"{rel} includes services/{target}/{m.group(2)}: {way} "
                                        f"from {d} to {target}")
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    if checked == 0:
        print("FAIL: no source file found under", root, file=sys.stderr)
        return 1
    print(f"{checked} files of {len(folders)} folders checked against services/FLOORS")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
