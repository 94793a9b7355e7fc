"""Each page's weight: the bytes a first visit transfers, the HTML and everything it loads, in Chromium.

Builds the site (``mkdocs build --strict``) into a temporary folder, serves it on 127.0.0.1 under
a subpath as GitHub Pages would, and loads every page of its sitemap in a fresh browser context
(an empty cache) until the network is idle; every response counts — stylesheets, scripts (the
vendored charting library included), images and what scripts fetch (the search index). The
server does not compress, so these are the uncompressed sizes. Target: no page over 1.5 MB.

Needs Debian's chromium (``apt-get install -y chromium``) and playwright (the ``test`` extra).

    python benchmarks/page_weight.py            # every page, heaviest first; exit 1 over the limit
    python benchmarks/page_weight.py --detail 1  # and what the heaviest page loads
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from site_browser import built_and_served, launch, missing_browser, page_urls, page_weight

LIMIT_BYTES = 1_500_000


def measure(urls: list[str], browser) -> dict[str, tuple[int, dict[str, int], list[str]]]:
    """Address -> (total bytes, bytes per loaded address, failed loads), each in a fresh context."""
    found = {}
    for url in urls:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        found[url] = page_weight(context.new_page(), url)
        context.close()
    return found


def main() -> int:
    """Print each page's weight, heaviest first; exit 1 when one is over the limit or a load failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detail", type=int, default=0, metavar="N", help="list what the N heaviest pages load")
    arguments = parser.parse_args()
    reason = missing_browser()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as root, built_and_served(Path(root)) as (url, site), sync_playwright() as playwright:
        browser = launch(playwright)
        weights = measure(page_urls(site, url), browser)
        browser.close()
    ranked = sorted(weights.items(), key=lambda item: -item[1][0])
    print(f"{'bytes':>11}  page")
    for address, (total, _, failed) in ranked:
        print(f"{total:>11,}  /{address.removeprefix(url)}" + (f"  FAILED: {', '.join(failed)}" if failed else ""))
    for address, (_, sizes, _) in ranked[: arguments.detail]:
        print(f"\n/{address.removeprefix(url)} loads:")
        for loaded, size in sorted(sizes.items(), key=lambda item: -item[1]):
            print(f"{size:>11,}  {loaded.removeprefix(url)}")
    totals = [total for total, _, _ in weights.values()]
    print(f"\n{len(totals)} pages: heaviest {max(totals):,} bytes, median {statistics.median(totals):,.0f}, lightest {min(totals):,}; limit {LIMIT_BYTES:,}")
    over = [address for address, (total, _, failed) in weights.items() if total > LIMIT_BYTES or failed]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
