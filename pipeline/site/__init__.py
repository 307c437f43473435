"""The site: pages.py works out what each page shows, render.py writes the pages, feeds and
sitemap from templates/ (package data), and serve.py previews the built site."""
