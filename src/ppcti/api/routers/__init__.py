"""API routers: accounts, uploads and jobs, and one module per capability of a run's results."""
