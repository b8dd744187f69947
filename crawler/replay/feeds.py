"""Machine-readable entry points of the replay site: robots.txt, RSS feeds and sitemaps."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

from crawler.replay.model import END, MIRROR, PRIMARY, SCHEME, SECTION_BY_ID, StoryTruth

if TYPE_CHECKING:
    from crawler.replay.site import ReplaySite

FEED_SIZE = 30
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def render_robots(host: str) -> str:
    return (
        "User-agent: *\n"
        "Disallow: /search\n"
        "Disallow: /Search\n"
        "\n"
        f"Sitemap: {SCHEME}://{host}/sitemap.xml\n"
    )


def _feed_link(site: ReplaySite, story: StoryTruth, host: str) -> str:
    # The live mirror's feed points its items at the primary, under the mirror's own paths.
    return f"{SCHEME}://{PRIMARY if host == MIRROR else host}{site.link_path(story, host)}"


def has_feed_date(story: StoryTruth) -> bool:
    """Live feeds have items without pubDate; here every fourth story from the third on."""
    return story.n % 4 != 3


def render_rss(site: ReplaySite, host: str, section_id: int | None) -> str:
    if section_id is None:
        stories = site.newest(host)[:FEED_SIZE]
        title, page = "Press TV", f"{SCHEME}://{host}/"
        self_path = "/rss.xml"
    else:
        stories = site.in_section(host, section_id)[:FEED_SIZE]
        title = f"Press TV - {SECTION_BY_ID[section_id].name}"
        page = f"{SCHEME}://{host}/Section/{section_id}"
        self_path = f"/rss/rss-{section_id}.xml"
    built = format_datetime(stories[0].published if stories else END)
    items = []
    for story in stories:
        shown = site.shown(story, host)
        link = escape(_feed_link(site, story, host))
        date = (
            f"<pubDate>{format_datetime(story.published)}</pubDate>" if has_feed_date(story) else ""
        )
        section = SECTION_BY_ID[story.section_id].name
        items.append(
            f"<item><title>{escape(shown.title)}</title><link>{link}</link>"
            f"<description>{escape(shown.lead)}</description>{date}"
            f'<guid isPermaLink="true">{link}</guid><category>{escape(section)}</category></item>\n'
        )
    self_url = quoteattr(f"{SCHEME}://{host}{self_path}")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{escape(title)}</title>\n<link>{escape(page)}</link>\n"
        "<description>Press TV news feed</description>\n<language>en</language>\n"
        f"<lastBuildDate>{built}</lastBuildDate>\n"
        f'<atom:link href={self_url} rel="self" type="application/rss+xml"/>\n'
        + "".join(items)
        + "</channel>\n</rss>\n"
    )


def month_of(story: StoryTruth) -> str:
    return story.published_at[:7]


def sitemap_months(site: ReplaySite, host: str) -> dict[str, dt.datetime]:
    """Each month with stories on the host, newest first, with its latest change."""
    months: dict[str, dt.datetime] = {}
    for story in site.newest(host):
        modified = site.modified(story, host)
        month = month_of(story)
        if month not in months or modified > months[month]:
            months[month] = modified
    return months


def render_sitemap_index(site: ReplaySite, host: str) -> str:
    entries = "".join(
        f"<sitemap><loc>{SCHEME}://{host}/sitemap-{month}.xml</loc>"
        f"<lastmod>{lastmod.isoformat()}</lastmod></sitemap>\n"
        for month, lastmod in sitemap_months(site, host).items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="{SITEMAP_NS}">\n{entries}</sitemapindex>\n'
    )


def render_sitemap(site: ReplaySite, host: str, month: str) -> str:
    entries = "".join(
        f"<url><loc>{escape(site.link_url(story, host))}</loc>"
        f"<lastmod>{site.modified(story, host).isoformat()}</lastmod></url>\n"
        for story in site.newest(host)
        if month_of(story) == month
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n{entries}</urlset>\n'
