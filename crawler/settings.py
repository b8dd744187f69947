"""Scrapy settings for newsmirror; project keys are prefixed NEWSMIRROR_ and documented in README."""

from crawler import __version__

BOT_NAME = "newsmirror"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# A real User-Agent naming the project, so site operators know who is asking.
USER_AGENT = f"newsmirror/{__version__} (news archiver; +https://pypi.org/project/newsmirror/)"
ROBOTSTXT_OBEY = True

# Politeness: AutoThrottle adapts to each host's latency; a few requests per host at once.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25

# Scrapy starts this many asyncio workers for every response's output; the storage pipeline
# is synchronous, so a hundred per page is only overhead.
CONCURRENT_ITEMS = 8
# Scrapy reads a generator callback's source to warn about `return value`, and its cache of
# the answer is keyed by weak references to bound methods, which die at once: the source was
# parsed again for every response.
WARN_ON_GENERATOR_RETURN_VALUE = False

DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
# No per-page "Crawled" / per-item "Scraped" DEBUG records made only to be dropped.
LOG_FORMATTER = "crawler.logformatter.QuietLogFormatter"

# --connect-to rides on the download handler so that everything above it sees logical URLs.
DOWNLOAD_HANDLERS = {
    "http": "crawler.transport.ConnectToDownloadHandler",
    "https": "crawler.transport.ConnectToDownloadHandler",
}
DOWNLOADER_MIDDLEWARES = {
    # Before robots.txt (100), retries and redirects: no request leaves for a foreign host.
    "crawler.middlewares.HostGuardMiddleware": 50,
    "crawler.middlewares.PageBudgetMiddleware": 60,
    # Scrapy 2.19's own lets some of a host's first requests past robots.txt unchecked.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.SharedRobotsTxtMiddleware": 100,
}
# Depth is bounded per listing chain by the profile; Scrapy's depth bookkeeping only costs
# time on every request the spider yields.
SPIDER_MIDDLEWARES = {"scrapy.spidermiddlewares.depth.DepthMiddleware": None}
# With --jobdir, pending requests live on disk; Scrapy's own file queues do not survive a
# SIGKILL, these SQLite ones do.
SCHEDULER_DISK_QUEUE = "crawler.queues.SqliteRequestQueue"
SCHEDULER = "crawler.scheduler.JobdirScheduler"  # active.json written atomically
ITEM_PIPELINES = {"crawler.pipelines.StoragePipeline": 300}
EXTENSIONS = {
    "crawler.extensions.ProgressReporter": 500,
    "crawler.gc_policy.GcPolicyExtension": 0,
    # spider.state is unused, and its pickle, written at close, is torn by a kill then.
    "scrapy.extensions.spiderstate.SpiderState": None,
}

# --- newsmirror -----------------------------------------------------------------------------
NEWSMIRROR_DB = "data/newsmirror.db"
NEWSMIRROR_CONNECT_TO: list[str] = []  # ["www.presstv.ir=http://127.0.0.1:8001", ...]
NEWSMIRROR_MIRROR_POLICY = "all"  # all | first
NEWSMIRROR_MAX_PAGES = 0  # 0: no bound
NEWSMIRROR_FULL = False  # True: ask every story of every host again, walk every listing
NEWSMIRROR_BACKFILL_IDS = ""  # "FROM-TO": ask ids the archive lacks instead of discovering
NEWSMIRROR_RECHECK_DAYS = 7.0  # stories published this recently are asked again each run
NEWSMIRROR_MAX_MISSING_SHARE = 0.5  # fail a run when more new stories lack a required field
NEWSMIRROR_ON_FAILURE = ""  # command run when a run fails (gets NEWSMIRROR_* env vars)
NEWSMIRROR_WEBHOOK = ""  # URL that gets a JSON POST when a run fails
NEWSMIRROR_BATCH_SIZE = 200  # captures per write transaction
NEWSMIRROR_FLUSH_SECONDS = 2.0  # ... or this often, whichever comes first
NEWSMIRROR_PROGRESS = "lines"  # auto | live | lines | off (the CLI uses auto)
NEWSMIRROR_PROGRESS_INTERVAL = 30.0  # seconds between progress lines
NEWSMIRROR_PAGE_WORKERS = "auto"  # processes reading story pages: auto (cores - 1, ≤ 4) | N
