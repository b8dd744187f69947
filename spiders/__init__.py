"""Spiders: `mirror` crawls any profile (-a profile=NAME_OR_PATH); each built-in profile also
has a spider of its own name, so `scrapy crawl presstv` works."""
