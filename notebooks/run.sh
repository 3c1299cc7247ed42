#!/usr/bin/env bash
# Executes every notebook in notebooks/ against a sweep's output folder; what CI calls.
#
#   bash notebooks/run.sh OUT_DIR
#
# - venv: ${NB_VENV:-$HOME/.cache/hcp-nb-venv}, created with `python3 -m venv` (PYTHON to
#   choose another interpreter) and filled from requirements.txt; reinstalled only when
#   requirements.txt changes (its hash is stamped in the venv).
# - fails if a notebook in git is not stripped (outputs or execution counts).
# - runs each notebook with nbclient, HCP_OUT=OUT_DIR, cell timeout 600 s; executed copies go
#   to ${NB_EXECUTED_DIR:-a new temp dir}, never into notebooks/. Exit 1 naming the notebook
#   and cell of every error. HCP_NB_FIGS=DIR also saves each figure as PNG in DIR.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash notebooks/run.sh OUT_DIR (a folder written by hcp sweep --out)" >&2
  exit 2
fi
if [ ! -d "$1" ]; then
  echo "run.sh: $1: no such folder" >&2
  exit 2
fi
out="$(cd "$1" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${NB_VENV:-$HOME/.cache/hcp-nb-venv}"
python="${PYTHON:-python3}"

t0=$(date +%s)
if [ ! -x "$venv/bin/python" ]; then
  echo "== creating venv $venv"
  "$python" -m venv "$venv"
fi
want="$(cat "$here/requirements.txt" <("$venv/bin/python" -V 2>&1) | sha256sum | cut -d' ' -f1)"
stamp="$venv/.hcp-requirements.sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== installing notebooks/requirements.txt into $venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi
t1=$(date +%s)
echo "== venv ready ($((t1 - t0)) s)"

echo "== checking the notebooks are stripped"
"$venv/bin/python" "$here/strip.py" --check

executed="${NB_EXECUTED_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/hcp-nb.XXXXXX")}"
mkdir -p "$executed"
echo "== executing notebooks against $out (executed copies: $executed)"
HCP_OUT="$out" "$venv/bin/python" - "$here" "$executed" <<'PY'
import sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

here, executed = Path(sys.argv[1]), Path(sys.argv[2])
failed = []
for path in sorted(here.glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(here)}})
    start = time.time()
    try:
        client.execute()
        print(f"ok    {path.name} ({time.time() - start:.1f} s)", flush=True)
    except (CellExecutionError, CellTimeoutError) as error:
        where = "?"
        for i, cell in enumerate(nb.cells):
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                where = f"cell {i} ({first[:60]!r})"
                break
        if isinstance(error, CellTimeoutError):
            where = "a cell that ran past 600 s"
        summary = (f"{error.ename}: {error.evalue}" if getattr(error, "ename", None)
                   else type(error).__name__)
        print(f"FAIL  {path.name}: {where}: {summary}", flush=True)
        failed.append(path.name)
    finally:
        nbformat.write(nb, executed / path.name)
if failed:
    print(f"{len(failed)} notebook(s) failed: {', '.join(failed)} (executed copies in {executed})")
    sys.exit(1)
PY
echo "== notebooks ok ($(( $(date +%s) - t1 )) s)"
