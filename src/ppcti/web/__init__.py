"""The browser front end: server-rendered pages (Jinja2, autoescaped) with a little JavaScript, and the
CSS and scripts they need, all served from the package (no external CDN)."""
