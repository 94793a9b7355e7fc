"""Ship the study's published files: byte-exact copies in data/sources/study/, their outcomes added by ``catalogue results add``.

Re-runnable: it checks every file against the sha256 below (the study's repository
peremartra/llama-glu-expansion-pruning, snapshot commit 97f91904b0b859c5ec2efcfe29def9f06b322ba5; each
file with the last commit touching it), takes the outcomes and left-out values read from
data/sources/study/ out of data/outcomes.json, and adds the files again with ``catalogue results add``,
so outcomes made under changed outcome rules replace the earlier ones. The bench's outcomes stay.

    python scripts/ship_study.py                                  # the files already in data/sources/study/
    python scripts/ship_study.py --from ../shared/outcome-examples/study   # copy them first (byte-exact)

Exit 0: shipped (``results add`` may report problems: its values are left out, as listed); 2: a file is
missing or differs from its sha256, or ``results add`` refused the files (data/outcomes.json as it was).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = Path("data/sources/study")

#: file (relative to the study's results/) -> (last commit touching it, sha256 of its bytes).
MANIFEST: dict[str, tuple[str, str]] = {
    "llama_1b_complete_results_latest.json": ("e3b040b0766d559e20357f159c412c84d7420c21", "9a96a5ba2bb7b5b44b7827d3df5567adeab796634a837009d2e464782204f274"),
    "llama_1b_results_latest.csv": ("f74be639533aba09db34959e1cc8610eebb5cae2", "55235b0633c6bd69aa1aff10a1227daef6dc99934eeb3c2f4b700b2cb38ba419"),
    "llama_1b_carbon_complete_results_latest.json": (
        "1bc56d63b5695b1ca8b1d966c8fe8c26d759bda0",
        "2dbf048aadaac465677b9ec7a78dbf02b2aa9ea844396aa70de1aa8285ed4f94",
    ),
    "idle_power_calibration_1b.json": ("1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a", "427948c37ab2191017c21c7d35f5ed3da3fe0c2b404bfefa303dc2bcd5b7be72"),
    "llama_1b_I_complete_results_latest.json": ("da3183aca4d8d32b43588fbffbb43f4dd2fbb0b5", "626604b58bd325ddd0a9fce821e96ecfde6f7c4251a83ea54e9896a0e977aaa6"),
    "llama_1b_I_results_latest.csv": ("da3183aca4d8d32b43588fbffbb43f4dd2fbb0b5", "be30cc5e499a4763eb3d599fd02dcf6a9672c3b60847acd7ed1782468cf84ffe"),
    "llama_3b_complete_results_latest.json": ("b5bf30c4a98b8e0f6f9075a07c35f99fa7586e1b", "01b881215ae0b690c6590d7628d7dc164cd31f58a992fdba5f2bce48db2c3342"),
    "llama_3b_results_latest.csv": ("b1756735c9441f7450b77eb60ffc1827370e3901", "cb982af4a1902c47661cf8fca13ef3b9276bf2f1a6983322937a2f91340e0e6f"),
    "llama_3b_carbon_complete_results_latest.json": (
        "930db0c7ce915f2b877fea6161fb6127e94ad98b",
        "363caf9ddc30bbdc861cdb5bdd8c5d60004cfd04b840cd68dba8276136a465e7",
    ),
    "results-readme.md": ("7a69f3d34ac665d808c3328a7a6e6b92c1c7a166", "74543120d10d3991e4e6818d42149e77bd84f3cca704d93f5b1aad21191e9a48"),
    "individual_files/llama_3.2_1b_baseline_carbon_run1_seed42.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "4883cd5414b0fa0dd81de8d399abdd64463458efa9a8d59ab9facfb290467f21",
    ),
    "individual_files/llama_3.2_1b_baseline_carbon_run2_seed123.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "d6a14e1e432137bf9ef20fd34e6b8e58826b506b7e1000b895f526e05880bc24",
    ),
    "individual_files/llama_3.2_1b_baseline_carbon_run3_seed456.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "36be7ba63833e8aa5c7845a4563373fc9672868f3dcfe3f13499a282426d1547",
    ),
    "individual_files/llama_3.2_1b_pruned_10pct_carbon_run1_seed42.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "1f53c85ff7a2396155e8daae5a9558ff34b50246c7dfe4637fc0d05883115e73",
    ),
    "individual_files/llama_3.2_1b_pruned_10pct_carbon_run2_seed123.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "7834d86ccdc2afea582340d51f7db83be0c6b6214aae2c847769454286865ed2",
    ),
    "individual_files/llama_3.2_1b_pruned_10pct_carbon_run3_seed456.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "ab020ab21548b505c3fcf6700126bc8abb3ba18aaf44a1c9a522c6b695f86768",
    ),
    "individual_files/llama_3.2_1b_pruned_20pct_carbon_run1_seed42.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "534f46c4b321f038b7aeac57694d1febf0cfa50c3e9bdf81acff681a075622e8",
    ),
    "individual_files/llama_3.2_1b_pruned_20pct_carbon_run2_seed123.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "9d8a27a3ca7d7b827f2cac8064ded07b21a8ed213b464d5261d3dfc5e96b0d28",
    ),
    "individual_files/llama_3.2_1b_pruned_20pct_carbon_run3_seed456.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "95e50805cecdfddbd571cef88caa7d0e082cd5449ebaf58968ecca98e6f421d9",
    ),
    "individual_files/llama_3.2_1b_pruned_30pct_carbon_run1_seed42.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "4ad8b43293dc19b9e6918174d4d68598dd1582b59305c18345c906a1db52b808",
    ),
    "individual_files/llama_3.2_1b_pruned_30pct_carbon_run2_seed123.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "2df15790bc200b7de4de1091ddbac044fa474773392214c7e7d01e57cb994b27",
    ),
    "individual_files/llama_3.2_1b_pruned_30pct_carbon_run3_seed456.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "34c6f37c3d60b9a4914ddd18c1ece26eb455727f1d76935d84795b29c1b8d76e",
    ),
    "individual_files/llama_3.2_1b_pruned_40pct_carbon_run1_seed42.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "e5ff881a45efbaef4225788a626832c60c484f389430f8be7d19c01ac345e1fc",
    ),
    "individual_files/llama_3.2_1b_pruned_40pct_carbon_run2_seed123.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "a469c97a675bc1c1c47f8cd9c8b57f4ad34623fc0864900c5501146df7d96f8f",
    ),
    "individual_files/llama_3.2_1b_pruned_40pct_carbon_run3_seed456.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "ef5eb70d3e020948bde846b12f3e37d47d42ab75261b52df440dc7eed80429ad",
    ),
    "individual_files/llama_3.2_1b_pruned_50pct_carbon_run1_seed42.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "efafbb6ec6e455b5a1fb645f4ace89de6722842431ed4ef65909bd4fb4d394b0",
    ),
    "individual_files/llama_3.2_1b_pruned_50pct_carbon_run2_seed123.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "d3c09d711daad25c338f74dcb1366e07f4339a79dc60e511520de9fcb7aa0e45",
    ),
    "individual_files/llama_3.2_1b_pruned_50pct_carbon_run3_seed456.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "f8464fda60aac10aef6b659d1574194038d780f11d2c6e928a6a2dc2c3715729",
    ),
    "individual_files/llama_3.2_1b_pruned_60pct_carbon_run1_seed42.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "3ec9f56baf00c68ed720031ec9164e6c4919fe4627ef6c58792dc5048267fd99",
    ),
    "individual_files/llama_3.2_1b_pruned_60pct_carbon_run2_seed123.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "e4c05775d7b0124b11458c3881b6841a3fc74b3b2f50bb636b0c93bf6db57e91",
    ),
    "individual_files/llama_3.2_1b_pruned_60pct_carbon_run3_seed456.json": (
        "1d4dacfe7a4e30a1581ece95e3d882ccbd4fde9a",
        "e08bc22c418372bf0e77c39a2db9fb083029a449e0749a415b74d1c5401cd8fe",
    ),
}

#: Files no reader reads: kept as published (the idle power is inside the carbon files; the README is
#: checked by ``catalogue results check``, not added).
NOT_ADDED = frozenset({"idle_power_calibration_1b.json", "results-readme.md"})


def copy_from(directory: Path) -> None:
    """Copy every manifest file of ``directory`` into data/sources/study/ (each checked before it is copied)."""
    for name in MANIFEST:
        check(directory / name, name)
        target = ROOT / SOURCES / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(directory / name, target)


def check(path: Path, name: str) -> None:
    """Exit 2 unless ``path`` holds the bytes the manifest names for ``name``."""
    if not path.is_file():
        sys.exit(f"error: {path}: missing (the study's {name})")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MANIFEST[name][1]:
        sys.exit(f"error: {path}: sha256 {digest} is not the study's {MANIFEST[name][1]} (commit {MANIFEST[name][0]})")


def write_outcomes(outcomes) -> None:
    """data/outcomes.json and .csv holding ``outcomes`` (one atomic write)."""
    from glu_catalogue.store.outcomes_files import outcomes_texts
    from glu_catalogue.store.writing import write_files

    write_files(outcomes_texts(ROOT / "data", outcomes), journal_dir=ROOT / "data", roots=(ROOT / "data",))


def drop_study_outcomes():
    """Write data/outcomes.json and .csv without the values read from data/sources/study/; returns the earlier outcomes."""
    from glu_catalogue.core.outcome_records import OutcomesFile
    from glu_catalogue.store.outcomes_files import read_outcomes

    stored = read_outcomes(ROOT / "data")
    prefix = f"{SOURCES.as_posix()}/"
    kept = OutcomesFile(
        outcomes=[outcome for outcome in stored.outcomes if not outcome.source.path.startswith(prefix)],
        left_out=[item for item in stored.left_out if not item.source.path.startswith(prefix)],
    )
    write_outcomes(kept)
    return stored


def main() -> int:
    """Check, copy if asked, and add the study's files; the exit status of the script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="origin", type=Path, help="a directory holding the study's files (copied byte-exact first)")
    options = parser.parse_args()
    if options.origin is not None:
        copy_from(options.origin)
    for name in MANIFEST:
        check(ROOT / SOURCES / name, name)
    extra = sorted(str(path.relative_to(ROOT / SOURCES)) for path in (ROOT / SOURCES).rglob("*") if path.is_file())
    unknown = [name for name in extra if name not in MANIFEST]
    if unknown:
        sys.exit(f"error: {SOURCES}/{unknown[0]}: not one of the study's files (add it to MANIFEST with its commit and sha256)")
    files = [(SOURCES / name).as_posix() for name in MANIFEST if name not in NOT_ADDED]
    before = drop_study_outcomes()
    completed = subprocess.run([sys.executable, "-m", "glu_catalogue", "results", "add", *files], cwd=ROOT, check=False)
    if completed.returncode not in (0, 1):
        write_outcomes(before)
        return 2
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
