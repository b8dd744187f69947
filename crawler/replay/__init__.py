"""The bundled offline replay of a mirrored news site, served on loopback for `demo` and tests.

    site = build_site(ReplayConfig(stories=60))     # ground truth in site.stories, site.truth
    with serve(site) as server:                      # one loopback server per Press TV host
        args = server.connect_to()                   # ["www.presstv.ir=http://127.0.0.1:PORT", ...]
        ...                                          # crawl phase 1
        server.set_phase(2)                          # a day later: new, edited, removed stories
        server.clear_requests()                      # count the next crawl's requests alone

`site.respond(host, path)` answers without any socket; `site.at_phase(n)` is the same site in
another phase. See ReplayConfig for which stories are edited on www.presstv.co.uk, linked there
under other slugs, drift from the page template or lack a machine-readable date, how many the
lagging www.presstv.tv lacks, what phases 2 and 3 change, and the switches for troublesome
hosts, unlisted stories, id gaps, republished copies and daily bulletins.
"""

from crawler.replay.model import EditedText, ReplayConfig, StoryTruth
from crawler.replay.server import Hit, ReplayServer, serve
from crawler.replay.site import ReplaySite, Shown, build_site
from crawler.replay.truth import PhaseTruth, Removal, Revision

__all__ = [
    "EditedText",
    "Hit",
    "PhaseTruth",
    "Removal",
    "ReplayConfig",
    "ReplayServer",
    "ReplaySite",
    "Revision",
    "Shown",
    "StoryTruth",
    "build_site",
    "serve",
]
