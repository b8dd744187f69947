"""HTML pages of the replay site, laid out like the Press TV model page (reference/article.html)."""

from __future__ import annotations

import datetime as dt
import json
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote_plus

from crawler.replay.model import (
    CDN_HOST,
    MIRROR,
    PRIMARY,
    SCHEME,
    SECTION_BY_ID,
    SECTIONS,
    TOP_SECTIONS,
    StoryTruth,
    section_trail,
)

if TYPE_CHECKING:
    from crawler.replay.site import ReplaySite, Shown

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
ALT_NOTICE = "Press TV’s website can also be accessed at the following alternate addresses:"
SEIZURE_NOTICE = (
    "The domain presstv.com has been seized by the United States Government in accordance with "
    "a seizure warrant issued pursuant to 50 U.S.C. §§ 1701-1708 and 18 U.S.C. § 981 as part of "
    "a law enforcement action by the Bureau of Industry and Security, Office of Export "
    "Enforcement and the Federal Bureau of Investigation."
)
PAGE_SIZE = 10
HOME_SIZE = 20


def visible_date(when: dt.datetime) -> str:
    """The visible date, 'Saturday, 08 March 2025 10:21 AM', spelled out so no locale alters it."""
    hour = when.hour % 12 or 12
    half = "AM" if when.hour < 12 else "PM"
    return (
        f"{WEEKDAYS[when.weekday()]}, {when.day:02d} {MONTHS[when.month - 1]} {when.year} "
        f"{hour:02d}:{when.minute:02d} {half}"
    )


def _e(text: str) -> str:
    return escape(text, quote=True)


def _head(title: str, extra: str = "", feed: bool = True) -> str:
    link = (
        '    <link rel="alternate" type="application/rss+xml" title="Press TV" href="/rss.xml">\n'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en" dir="ltr">\n<head>\n    <meta charset="utf-8">\n'
        f"    <title>{_e(title)}</title>\n"
        '    <meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{link if feed else ''}{extra}</head>\n"
    )


def _header() -> str:
    menu = " ".join(f'<a href="/Section/{s.id}">{_e(s.name)}</a>' for s in TOP_SECTIONS)
    return (
        '<body>\n    <header class="site-header">\n'
        '        <a class="logo" href="/"><img src="/images/logo.png" alt="PRESSTV"></a>\n'
        f'        <nav class="main-menu">{menu}</nav>\n'
        '        <a class="search-link" href="/search">Search</a>\n'
        "    </header>\n"
    )


def _footer() -> str:
    # The off-site link is in the model page too: a crawler must never follow it.
    return (
        '    <footer class="site-footer">\n'
        '        <a href="https://www.roku.com/whats-on/news">Press TV News Roku</a>\n'
        '        <a href="/rss.xml">RSS</a> <a href="/sitemap.xml">Sitemap</a>\n'
        "    </footer>\n</body>\n</html>\n"
    )


def _breadcrumb(section_id: int | None) -> str:
    crumbs = ['<a href="/">News</a>']
    if section_id is not None:
        crumbs += [f'<a href="/Section/{s.id}">{_e(s.name)}</a>' for s in section_trail(section_id)]
    return '        <div class="breadcrumb">' + " &nbsp;/&nbsp; ".join(crumbs) + "</div>\n"


def _alt_addresses(site: ReplaySite, css_class: str) -> str:
    links = "".join(f'<p><a href="{SCHEME}://{h}">{h}</a></p>' for h in site.alt_hosts())
    return f'<div class="{css_class}"><p>{ALT_NOTICE}</p>{links}</div>'


def _paragraphs(site: ReplaySite, story: StoryTruth, host: str, shown: Shown) -> list[str]:
    """Body paragraphs as HTML; one may carry an inline link to an older story."""
    out = [_e(p) for p in shown.paragraphs]
    if story.inline_link is not None:
        index, target_id, words = story.inline_link
        target = site.story(target_id)
        text = shown.paragraphs[index] if index < len(shown.paragraphs) else ""
        if target is not None and site.serves(target, host) and text.startswith(words):
            href = _e(site.link_path(target, host))
            out[index] = f'<a href="{href}">{_e(words)}</a>{_e(text[len(words) :])}'
    return out


def _related(site: ReplaySite, story: StoryTruth, host: str) -> str:
    """Links to other stories: relative, on another mirror, with tracking or a fragment."""
    items = []
    for i, target_id in enumerate(story.related):
        target = site.story(target_id)
        if target is None or not site.serves(target, host):
            continue
        href = site.link_path(target, host)
        style = (story.n + i) % 4
        others = site.other_hosts(target, host)
        if style == 1 and host == MIRROR and site.phase >= 2 and site.serves(target, PRIMARY):
            href = f"{SCHEME}://{CDN_HOST}{target.path}"  # the mirror's new CDN alias
        elif style == 1 and others:
            href = site.link_url(target, others[story.n % len(others)])
        elif style == 2:
            href += "?utm_source=related&utm_medium=web&utm_campaign=story"
        elif style == 3:
            href += "#comments"
        title = site.shown(target, host).title
        items.append(f'<li><a href="{_e(href)}">{_e(title)}</a></li>')
    return (
        '        <aside class="related">\n            <h3>Related</h3>\n            <ul>'
        + "".join(items)
        + "</ul>\n        </aside>\n"
    )


def _json_ld(story: StoryTruth, shown: Shown, with_body: bool) -> str:
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": shown.title,
        "description": shown.lead,
    }
    if story.dated_by_meta:
        data["datePublished"] = story.published_at
        data["dateModified"] = shown.modified.isoformat()
    data["mainEntityOfPage"] = story.canonical_url
    data["image"] = [story.image_url]
    if story.authors:
        data["author"] = [{"@type": "Person", "name": name} for name in story.authors]
    data["publisher"] = {"@type": "Organization", "name": "Press TV"}
    data["articleSection"] = section_trail(story.section_id)[0].name
    if with_body:
        data["articleBody"] = "\n\n".join(shown.paragraphs)
    text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'    <script type="application/ld+json">{text}</script>\n'


def _article_meta(story: StoryTruth, shown: Shown, url: str, json_ld: str) -> str:
    meta = [
        f'<meta name="description" content="{_e(shown.lead)}">',
        f'<link rel="canonical" href="{_e(story.canonical_url)}">',
        '<meta property="og:site_name" content="PressTV">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{_e(shown.title)}">',
        f'<meta property="og:description" content="{_e(shown.lead)}">',
        f'<meta property="og:url" content="{_e(url)}">',
        f'<meta property="og:image" content="{_e(story.image_url)}">',
    ]
    if story.dated_by_meta:
        meta.append(f'<meta property="article:published_time" content="{story.published_at}">')
        if shown.modified != story.published:
            modified = shown.modified.isoformat()
            meta.append(f'<meta property="article:modified_time" content="{modified}">')
    section = section_trail(story.section_id)[0].name
    meta.append(f'<meta property="article:section" content="{_e(section)}">')
    return "".join(f"    {line}\n" for line in meta) + json_ld


def render_article(site: ReplaySite, story: StoryTruth, host: str) -> str:
    shown = site.shown(story, host)
    url = site.link_url(story, host)
    json_ld = "" if story.layout == "plain" else _json_ld(story, shown, story.layout == "drifted")
    head = _head(f"{shown.title} | Press TV", _article_meta(story, shown, url, json_ld))
    date = visible_date(story.published)
    stamp = f"{date}  [ Last Update: {visible_date(shown.modified)} ]"
    paragraphs = _paragraphs(site, story, host, shown)
    if story.layout == "plain":
        main = _plain_article(site, story, shown, paragraphs, date)
    elif story.layout == "drifted":
        main = _drifted_article(site, story, shown, paragraphs, stamp)
    else:
        main = _standard_article(site, story, shown, paragraphs, stamp)
    body = f"{_breadcrumb(story.section_id)}{main}{_related(site, story, host)}"
    container = "page-wrap" if story.drifted else "container"
    tag = "div" if story.drifted else "main"
    return f'{head}{_header()}    <{tag} class="{container}">\n{body}    </{tag}>\n{_footer()}'


def _standard_article(
    site: ReplaySite, story: StoryTruth, shown: Shown, paragraphs: list[str], stamp: str
) -> str:
    share = _share_box(story.canonical_url)
    body = "".join(f"\n            <p>{p}</p>" for p in paragraphs)
    # CMS leftovers that extraction must drop: an empty paragraph and an ad script.
    if story.n % 3 == 0:
        body += "\n            <p>&nbsp;</p>"
    if story.n % 4 == 1:
        body += '\n            <script>window.adSlots = window.adSlots || []; adSlots.push("mid");</script>'
    byline = "".join(f'<div class="news-author">By {_e(a)}</div>' for a in story.authors)
    tags = "".join(f'<a href="/search?tag={quote_plus(t)}">{_e(t)}</a> ' for t in story.tags)
    return (
        f'        <article class="news-detail" data-news-id="{story.id}">\n'
        f'            <h1 class="news-title">{_e(shown.title)}</h1>\n'
        f'            <div class="news-date">{stamp}</div>{byline}\n'
        '            <figure class="news-image">\n'
        f'                <img src="{_e(_image_path(story))}" alt="">\n'
        f"                <figcaption>{_e(story.image_caption)}</figcaption>\n"
        "            </figure>\n"
        f'            <div class="news-body">{body}\n'
        f"                {_alt_addresses(site, 'alt-addresses')}\n"
        "            </div>\n"
        f'            <div class="news-tags">{tags.strip()}</div>\n'
        f"            {share}\n"
        "        </article>\n"
    )


def _drifted_article(
    site: ReplaySite, story: StoryTruth, shown: Shown, paragraphs: list[str], stamp: str
) -> str:
    share = _share_box(story.canonical_url)
    # A template redesign: no <article>, no <main>, renamed classes. Only JSON-LD still has
    # the body (articleBody), which is what a fallback to structured data must find.
    body = "".join(f"\n                <p>{p}</p>" for p in paragraphs)
    return (
        f'        <section class="story" data-story-id="{story.id}">\n'
        f'            <h1 class="story-headline">{_e(shown.title)}</h1>\n'
        f'            <div class="story-meta"><span class="story-time">{stamp}</span></div>\n'
        '            <div class="story-photo">\n'
        f'                <img src="{_e(_image_path(story))}" alt="">\n'
        f'                <p class="story-photo-caption">{_e(story.image_caption)}</p>\n'
        "            </div>\n"
        f'            <div class="story-content">{body}\n'
        f"                {_alt_addresses(site, 'mirror-list')}\n"
        "            </div>\n"
        f"            {share}\n"
        "        </section>\n"
    )


def _plain_article(
    site: ReplaySite, story: StoryTruth, shown: Shown, paragraphs: list[str], date: str
) -> str:
    share = _share_box(story.canonical_url)
    # Bare markup with no classes and no JSON-LD: only a general-purpose extractor copes.
    # The alternate-addresses notice sits among the paragraphs, where only cut_at finds it.
    body = "".join(f"\n            <p>{p}</p>" for p in paragraphs)
    hosts = "".join(
        f'\n            <p><a href="{SCHEME}://{h}">{h}</a></p>' for h in site.alt_hosts()
    )
    return (
        "        <article>\n"
        f"            <h1>{_e(shown.title)}</h1>\n"
        f"            <time>{date}</time>{body}\n"
        f"            <p>{ALT_NOTICE}</p>{hosts}\n"
        "        </article>\n"
        f"        {share}\n"
    )


def _share_box(url: str) -> str:
    target = url.replace("://", "%3A%2F%2F")
    return (
        '<div class="share-box"><span>SHARE THIS ARTICLE</span> '
        f'<a href="https://twitter.com/intent/tweet?url={_e(target)}">X</a> '
        f'<a href="https://t.me/share/url?url={_e(target)}">Telegram</a></div>'
    )


def _image_path(story: StoryTruth) -> str:
    return story.image_url.removeprefix(f"{SCHEME}://{PRIMARY}")


def _story_list(site: ReplaySite, stories: list[StoryTruth], host: str) -> str:
    items = []
    for story in stories:
        shown = site.shown(story, host)
        href = _e(site.link_path(story, host))
        items.append(
            '            <li class="news-item">'
            f'<a href="{href}"><img src="{_e(_image_path(story))}" alt=""></a>'
            f'<h3><a href="{href}">{_e(shown.title)}</a></h3>'
            f'<p class="summary">{_e(shown.lead)}</p>'
            f'<span class="date">{visible_date(story.published)}</span></li>\n'
        )
    return '        <ul class="news-list">\n' + "".join(items) + "        </ul>\n"


def render_home(site: ReplaySite, host: str) -> str:
    sections = "".join(
        f'            <li><a href="/Section/{s.id}">{_e(s.name)}</a></li>\n' for s in SECTIONS
    )
    description = (
        '    <meta name="description" content="Press TV: news from Iran and the world.">\n'
    )
    return (
        _head("Press TV - News", description)
        + _header()
        + '    <main class="container home">\n        <h2>Latest News</h2>\n'
        + _story_list(site, site.newest(host)[:HOME_SIZE], host)
        + '        <ul class="section-index">\n'
        + sections
        + "        </ul>\n    </main>\n"
        + _footer()
    )


def listing_pages(site: ReplaySite, host: str, section_id: int) -> int:
    count = len(site.in_section(host, section_id))
    return max(1, -(-count // PAGE_SIZE))


def _page_href(section_id: int, page: int) -> str:
    return f"/Section/{section_id}" if page == 1 else f"/Section/{section_id}?page={page}"


def render_listing(site: ReplaySite, host: str, section_id: int, page: int) -> str:
    section = SECTION_BY_ID[section_id]
    pages = listing_pages(site, host, section_id)
    start = (page - 1) * PAGE_SIZE
    stories = site.in_section(host, section_id)[start : start + PAGE_SIZE]
    links = []
    if page > 1:
        links.append(f'<link rel="prev" href="{_e(_page_href(section_id, page - 1))}">')
    if page < pages:
        links.append(f'<link rel="next" href="{_e(_page_href(section_id, page + 1))}">')
    extra = "".join(f"    {line}\n" for line in links)
    subs = [s for s in SECTIONS if s.parent == section_id]
    subnav = " ".join(f'<a href="/Section/{s.id}">{_e(s.name)}</a>' for s in subs)
    return (
        _head(f"{section.name} | Press TV", extra)
        + _header()
        + '    <main class="container listing">\n'
        + _breadcrumb(section_id)
        + f'        <h1 class="section-title">{_e(section.name)}</h1>\n'
        + (f'        <nav class="sub-sections">{subnav}</nav>\n' if subs else "")
        + _story_list(site, stories, host)
        + _pagination(section_id, page, pages)
        + "    </main>\n"
        + _footer()
    )


def _pagination(section_id: int, page: int, pages: int) -> str:
    # Numbered links around the current page, plus the first and the last, as news CMSs do.
    shown = sorted({1, pages, *range(max(1, page - 4), min(pages, page + 4) + 1)})
    parts = []
    if page > 1:
        parts.append(f'<a rel="prev" href="{_e(_page_href(section_id, page - 1))}">Previous</a>')
    for number in shown:
        if number == page:
            parts.append(f'<span class="current">{number}</span>')
        else:
            parts.append(f'<a href="{_e(_page_href(section_id, number))}">{number}</a>')
    if page < pages:
        parts.append(f'<a rel="next" href="{_e(_page_href(section_id, page + 1))}">Next</a>')
    return '        <div class="pagination">' + " ".join(parts) + "</div>\n"


def render_not_found() -> str:
    return (
        _head("Page not found | Press TV")
        + _header()
        + '    <main class="container error">\n        <h1>Page not found</h1>\n'
        "        <p>The page you requested could not be found.</p>\n"
        '        <p><a href="/">Back to the home page</a></p>\n    </main>\n' + _footer()
    )


def render_search() -> str:
    # Disallowed by robots.txt; it answers so that a crawler ignoring robots leaves a trace.
    return (
        _head("Search | Press TV", '    <meta name="robots" content="noindex">\n')
        + _header()
        + '    <main class="container search">\n        <h1>Search</h1>\n'
        '        <form action="/search" method="get"><input name="q" type="text"></form>\n'
        "    </main>\n" + _footer()
    )


def render_seizure(domain: str = "presstv.com") -> str:
    notice = SEIZURE_NOTICE.replace("presstv.com", domain)
    return (
        _head("This domain has been seized", feed=False)
        + '<body>\n    <div class="seizure-banner">\n'
        "        <h1>THIS DOMAIN HAS BEEN SEIZED</h1>\n"
        f"        <p>{_e(notice)}</p>\n"
        "    </div>\n</body>\n</html>\n"
    )


def render_parked(domain: str) -> str:
    # Worded so that none of the profile's seizure, parking or soft-404 markers matches:
    # the only sign is the same page on every path.
    return (
        _head(domain, feed=False) + '<body>\n    <div class="holding">\n'
        f"        <h1>{_e(domain)}</h1>\n"
        "        <p>This address is not in service at the moment.</p>\n"
        "        <p>Its registration is suspended while the registry reviews the account.</p>\n"
        '        <p class="links">Related searches: world news · live television · '
        "satellite channels</p>\n"
        "    </div>\n</body>\n</html>\n"
    )


def render_gone() -> str:
    return (
        _head("Gone", feed=False)
        + "<body><h1>Gone</h1><p>This story is no longer available.</p></body>\n</html>\n"
    )


def render_moved(target: str) -> str:
    return (
        _head("Moved", feed=False)
        + f'<body><h1>Moved</h1><p><a href="{_e(target)}">{_e(target)}</a></p></body>\n</html>\n'
    )


def render_method_not_allowed() -> str:
    return (
        _head("Method not allowed", feed=False)
        + "<body><h1>Method not allowed</h1></body>\n</html>\n"
    )
