"""Strip outputs from the notebooks (in place), or check that they are stripped.

    python notebooks/strip.py            strip every notebooks/*.ipynb
    python notebooks/strip.py --check    exit 1, naming each notebook that is not stripped
    python notebooks/strip.py A.ipynb    only the notebooks named

Stripped = no cell outputs, every execution_count null, no widget state.
Standard library only, so it runs before the venv exists.
"""

import json
import sys
from pathlib import Path


def problems(nb):
    found = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("outputs"):
            found.append(f"cell {i} has outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {i} has an execution count")
    if "widgets" in nb.get("metadata", {}):
        found.append("widget state in the metadata")
    return found


def strip(nb):
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def main(argv):
    check = "--check" in argv
    paths = [Path(a) for a in argv if a != "--check"] or sorted(Path(__file__).parent.glob("*.ipynb"))
    bad = 0
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        found = problems(nb)
        if check:
            if found:
                bad += 1
                print(f"{path}: not stripped ({'; '.join(found)}); run: python notebooks/strip.py", file=sys.stderr)
        elif found:
            path.write_text(json.dumps(strip(nb), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"stripped {path}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
