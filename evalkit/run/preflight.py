"""Everything a run can check before it writes or downloads anything: each suite's data is here or can be
fetched now (the model spec is checked by :func:`evalkit.models.registry.check_model`)."""

from __future__ import annotations

from urllib.parse import urlparse

from evalkit.catalog.cards import Catalog, load_catalog
from evalkit.config import RunConfig
from evalkit.data.availability import check_available, locate, unreachable


def check_data(config: RunConfig, catalog: Catalog | None = None) -> None:
    """Raise :class:`~evalkit.errors.DataError` for the first suite whose data is neither here nor fetchable;
    each download host is tried once."""
    catalog = catalog or load_catalog()
    reasons: dict[str, str | None] = {}

    def probe(url: str) -> str | None:
        host = urlparse(url).netloc
        if host not in reasons:
            reasons[host] = unreachable(url)
        return reasons[host]

    for name in config.benchmarks:
        location = locate(catalog.get(name), source=config.source,
                          data_file=config.data_file or config.demo_data.get(name),
                          data_root=config.environment.data_root)
        check_available(location, offline=config.environment.offline, probe=probe)
