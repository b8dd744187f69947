"""The bundled offline replay of a mirrored news site, served on loopback for `demo` and tests.

    site = build_site(ReplayConfig(stories=60))     # ground truth in site.stories
    with serve(site) as server:                      # one loopback server per Press TV host
        args = server.connect_to()                   # ["www.presstv.ir=http://127.0.0.1:PORT", ...]

`site.respond(host, path)` answers without any socket. See ReplayConfig for which stories are
edited on www.presstv.co.uk, linked there under other slugs, drift from the page template or
lack a machine-readable date, and how many the lagging www.presstv.tv lacks.
"""

from crawler.replay.model import EditedText, ReplayConfig, StoryTruth
from crawler.replay.server import Hit, ReplayServer, serve
from crawler.replay.site import ReplaySite, build_site

__all__ = [
    "EditedText",
    "Hit",
    "ReplayConfig",
    "ReplayServer",
    "ReplaySite",
    "StoryTruth",
    "build_site",
    "serve",
]
