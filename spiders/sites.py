"""One spider class per built-in profile, named after it (`scrapy crawl presstv`)."""

from __future__ import annotations

from crawler.profiles import builtin_profiles
from spiders.mirror import MirrorSpider


def _spider_for(profile_name: str) -> type[MirrorSpider]:
    attrs = {"name": profile_name, "profile_name": profile_name, "__module__": __name__}
    return type(
        f"{profile_name.title().replace('-', '').replace('_', '')}Spider", (MirrorSpider,), attrs
    )


for _name in builtin_profiles():
    _cls = _spider_for(_name)
    globals()[_cls.__name__] = _cls

del _name, _cls  # leave each class once in the module namespace for Scrapy's spider loader
