#!/usr/bin/env bash
# The README's tour, as a user meets it: the wheel (and sdist) built from this checkout, installed
# into a fresh virtual environment outside the checkout, and the README's `<!-- run-by-wheel-tour -->`
# block run line by line from an empty directory (init -> a tiny checkpoint saved by transformers ->
# add -> build -> verify -> site). Then: every file of the installed package is byte-identical to
# before the tour, and `pip install --force-reinstall` of the same wheel leaves the workspace
# verifying with all its records. Prints the wall time of each part. Run by .ci/run.
#
#   bash scripts/wheel_tour.sh            (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
started=$(date +%s.%N)
lap() { printf '[wheel tour] %-42s %6.1f s\n' "$1" "$(echo "$(date +%s.%N) - $started" | bc)"; }

"$python" -m venv "$work/venv"
. "$work/venv/bin/activate"
python -m pip install --quiet --upgrade pip build
python -m build --sdist --wheel --outdir "$work/dist" "$repo" >/dev/null
wheel=$(ls "$work"/dist/*.whl)
lap "sdist and wheel built ($(basename "$wheel"))"
# The CPU build of torch first (on this machine's disk); a plain `torch` would pull the CUDA build.
python -m pip install --quiet "torch==2.13.0"
python -m pip install --quiet "${wheel}[generate,docs]"
lap "installed into a fresh venv"

package=$(cd "$work" && python -c "import glu_catalogue, pathlib; print(pathlib.Path(glu_catalogue.__file__).parent)")
case "$package" in "$repo"*) echo "error: glu_catalogue imported from the checkout ($package), not the wheel" >&2; exit 1;; esac
fingerprint() { (cd "$package" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$1"; }
fingerprint "$work/before"

# The README's tour: every `$ ` line of the block after the marker, run in an empty directory.
mkdir "$work/tour" && cd "$work/tour"
awk '/<!-- run-by-wheel-tour -->/{found=1; next} found && /^```/{n++; if (n==2) exit; next} found && /^\$ /{print substr($0, 3)}' \
  "$repo/README.md" > "$work/tour.sh"
test -s "$work/tour.sh" || { echo "error: README.md has no <!-- run-by-wheel-tour --> block" >&2; exit 1; }
while IFS= read -r line; do
  echo "+ $line"
  eval "$line"
done < "$work/tour.sh"
lap "the README's tour"

fingerprint "$work/after"
if ! diff -u "$work/before" "$work/after"; then
  echo "error: the tour changed files of the installed package $package (diff above)" >&2
  exit 1
fi
echo "installed package unchanged: $(wc -l < "$work/after") files, byte-identical"
test -f site/index.html && grep -rlq "me/tiny-llama" site/models || { echo "error: the site lacks the workspace's model" >&2; exit 1; }

grep -q 'licence <a href="https://github.com/' site/index.html || { echo "error: the site's footer lacks the project's addresses (installed metadata)" >&2; exit 1; }

# Outside a workspace, commands that write refuse in one line (exit 2), and the package stays as it was.
mkdir "$work/outside" && pushd "$work/outside" >/dev/null
for command in "build --closed-form" "add $OLDPWD/tiny --id me/other" "schemas" "site"; do
  set +e; catalogue $command 2> "$work/refusal"; code=$?; set -e
  if [ "$code" -ne 2 ] || [ "$(wc -l < "$work/refusal")" -ne 1 ]; then
    echo "error: catalogue $command outside a workspace: exit $code, $(cat "$work/refusal")" >&2; exit 1
  fi
  echo "outside a workspace, catalogue ${command%% *} refuses: $(cat "$work/refusal")"
done
test -z "$(ls -A)" || { echo "error: a refused command wrote here" >&2; exit 1; }
popd >/dev/null
fingerprint "$work/after-refusals"
diff -q "$work/before" "$work/after-refusals" >/dev/null || { echo "error: a refused command changed the installed package" >&2; exit 1; }

records=$(python -c "import json; print(len(json.load(open('data/expansion_rates.json'))['models']))")
python -m pip install --quiet --force-reinstall --no-deps "$wheel"
verified=$(catalogue verify)
echo "after pip install --force-reinstall: $verified"
case "$verified" in "OK: no problems (2 files, $records records,"*) ;; *) echo "error: the workspace lost records ($records before)" >&2; exit 1;; esac
test -f data/models/me__tiny-llama.json && catalogue models | grep "me/tiny-llama" >/dev/null  # not grep -q: pipefail and SIGPIPE
lap "reinstalled; the workspace verifies with its $records records"
