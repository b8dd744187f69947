"""`python -m crawler` runs the newsmirror command."""

from crawler.cli import main

main()
