"""The models the Hub says derive from a base model: ``HfApi.list_models(filter="base_model:<id>")``'s request, page by page.

huggingface_hub 2.4 sends ``GET {endpoint}/api/models?filter=base_model:<id>`` and follows the
``Link: <...>; rel="next"`` header from page to page (``utils._pagination``); this asks the same,
through the same HTTP client, with each page under the hub's deadline and its 429 answers waited
out as ``Retry-After`` asks (``hub_reach``), and counts the bytes of every page. Nothing but ids is
asked for: what each model is comes from its own config.json and safetensors headers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import SourceError
from .hub_reach import HubTooSlow, RateLimited, asked_politely, hub_endpoint, quiet_hub, retry_after_s

#: The most pages one listing follows (the Hub's pages hold 1,000 models; 100 pages is 100,000 derivatives).
MAX_PAGES = 100


@dataclass
class Listing:
    """The derivatives listed so far and the bytes their pages took."""

    base_model: str
    endpoint: str
    repo_ids: list[str]
    bytes_read: int = 0


def list_derivatives(base_model: str, endpoint: str | None = None) -> Listing:
    """Every model id the Hub lists with ``base_model:<base_model>``, in the Hub's order, each once."""
    endpoint = endpoint or hub_endpoint()
    listing = Listing(base_model, endpoint, [])
    seen: set[str] = set()
    for page in _pages(listing):
        for item in page:
            model_id = (item.get("id") or item.get("modelId")) if isinstance(item, dict) else None
            if isinstance(model_id, str) and model_id not in seen:
                seen.add(model_id)
                listing.repo_ids.append(model_id)
    return listing


def _pages(listing: Listing) -> Iterator[list]:
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    url: str | None = f"{listing.endpoint}/api/models"
    params: dict | None = {"filter": f"base_model:{listing.base_model}"}
    what = f"the models derived from {listing.base_model}"
    pages = 0
    while url is not None:
        if pages == MAX_PAGES:
            raise SourceError(f"{what}: more than {MAX_PAGES} pages of models: the listing was cut there")
        pages += 1

        def ask(url: str = url, params: dict | None = params):
            with quiet_hub():
                answer = get_session().get(url, params=params, headers=build_hf_headers(), timeout=10.0)
                if answer.status_code == 429:
                    return RateLimited(retry_after_s(answer.headers))
                hf_raise_for_status(answer)
                return answer

        try:
            response = asked_politely(ask, what, listing.endpoint)
        except (HubTooSlow, SourceError):
            raise
        except Exception as error:
            raise SourceError(
                f"{what}: the hub at {listing.endpoint} did not list them ({type(error).__name__}: {' '.join(str(error).split())[:160]})"
            ) from None
        listing.bytes_read += len(response.content)
        try:
            page = json.loads(response.content)
        except ValueError:
            raise SourceError(f"{what}: the hub's answer at {response.url} is not JSON") from None
        if not isinstance(page, list):
            raise SourceError(f"{what}: the hub's answer at {response.url} is not a list of models")
        yield page
        url, params = response.links.get("next", {}).get("url"), None
